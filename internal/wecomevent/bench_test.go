package wecomevent

import (
	"testing"

	"github.com/wecom-operator/wecom-operator/internal/wxcrypt"
)

// BenchmarkVerifyDecryptParse is the receiver's CPU work for one typical
// event: signature, AES, and parsing the XML (the published derived vector).
func BenchmarkVerifyDecryptParse(b *testing.B) {
	c, err := wxcrypt.New("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")
	if err != nil {
		b.Fatal(err)
	}
	key, _ := wxcrypt.ParseEncodingAESKey("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C")
	enc, err := wxcrypt.EncryptWithRandom(key, []byte("0123456789abcdef"), []byte(samples["add_external_contact"]), "wx5823bf96d3bd56c7")
	if err != nil {
		b.Fatal(err)
	}
	sig := wxcrypt.Signature("QDG6eK", "1409659813", "1372623149", enc)
	body := wxcrypt.Sealed{Encrypt: enc}.EnvelopeXML("wx5823bf96d3bd56c7", "")
	b.ReportAllocs()
	for b.Loop() {
		msg, err := c.DecryptMsg(sig, "1409659813", "1372623149", body)
		if err != nil {
			b.Fatal(err)
		}
		ev, err := Parse(msg)
		if err != nil || ev.Validate() != nil {
			b.Fatal(err)
		}
	}
}

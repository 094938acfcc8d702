package wxcrypt

import "testing"

func BenchmarkDecryptMsgEvent(b *testing.B) {
	c := mustNew(b, tokenA, keyA, receiveIDA)
	body := (Sealed{Encrypt: derivedEncrypt}).EnvelopeXML(receiveIDA, "")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.DecryptMsg(derivedSignature, derivedTimestamp, derivedNonce, body); err != nil {
			b.Fatal(err)
		}
	}
}

package wxcrypt

import (
	"bytes"
	"testing"
)

// FuzzDecryptMsg feeds arbitrary envelopes and signatures to the full
// verify+decrypt path: it must never panic, and whatever it accepts must be
// correctly signed.
func FuzzDecryptMsg(f *testing.F) {
	f.Add(aPostSignature, aPostTimestamp, aPostNonce, []byte(aPostBody))
	f.Add(derivedSignature, derivedTimestamp, derivedNonce, (Sealed{Encrypt: derivedEncrypt}).EnvelopeXML(receiveIDA, ""))
	f.Add("", "", "", []byte("<xml><Encrypt>AAAA</Encrypt></xml>"))
	c := mustNew(f, tokenA, keyA, receiveIDA)
	f.Fuzz(func(t *testing.T, sig, ts, nonce string, body []byte) {
		msg, err := c.DecryptMsg(sig, ts, nonce, body)
		if err != nil {
			if CodeOf(err) == 0 {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		env, _ := ParseEnvelope(body)
		if VerifySignature(c.Token, ts, nonce, env.Encrypt, sig) != nil {
			t.Fatalf("accepted a bad signature")
		}
		_ = msg
	})
}

// FuzzDecrypt feeds arbitrary ciphertext straight to Decrypt (no signature in
// the way), covering padding and length parsing.
func FuzzDecrypt(f *testing.F) {
	f.Add(derivedEncrypt)
	f.Add(aGetEchostr)
	f.Add("")
	key, _ := ParseEncodingAESKey(keyA)
	f.Fuzz(func(t *testing.T, enc string) {
		msg, rid, err := Decrypt(key, enc)
		if err != nil {
			return
		}
		again, err := EncryptWithRandom(key, bytes.Repeat([]byte{'0'}, 16), msg, rid)
		if err != nil {
			t.Fatal(err)
		}
		m2, r2, err := Decrypt(key, again)
		if err != nil || !bytes.Equal(m2, msg) || r2 != rid {
			t.Fatalf("re-encryption does not round trip")
		}
	})
}

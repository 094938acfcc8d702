package wxcrypt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func mustNew(t testing.TB, token, key, rid string) *MsgCrypt {
	t.Helper()
	c, err := New(token, key, rid)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestPublishedVectorsGET(t *testing.T) {
	q, err := url.ParseQuery(aGetQuery)
	if err != nil {
		t.Fatal(err)
	}
	if q.Get("echostr") != aGetEchostr {
		t.Fatalf("one URL decode gives %q, want %q", q.Get("echostr"), aGetEchostr)
	}
	bq, _ := url.ParseQuery("echostr=" + bGetWire)
	tests := []struct {
		name                              string
		token, key, rid                   string
		sig, ts, nonce, echostr, expected string
	}{
		{"A-GET", tokenA, keyA, receiveIDA, q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr"), aGetReply},
		{"B-GET", tokenB, keyB, receiveIDB, bGetSignature, bGetTimestamp, bGetNonce, bGetEchostr, bGetReply},
		{"B-GET wire form", tokenB, keyB, receiveIDB, bGetSignature, bGetTimestamp, bGetNonce, bq.Get("echostr"), bGetReply},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mustNew(t, tt.token, tt.key, tt.rid).VerifyURL(tt.sig, tt.ts, tt.nonce, tt.echostr)
			if err != nil {
				t.Fatalf("VerifyURL: %v", err)
			}
			if string(got) != tt.expected {
				t.Fatalf("reply = %q, want %q", got, tt.expected)
			}
		})
	}
}

func TestPublishedVectorsPOST(t *testing.T) {
	tests := []struct {
		name            string
		token, key, rid string
		sig, ts, nonce  string
		body            string
		json            bool
		want            string
	}{
		{"A-POST", tokenA, keyA, receiveIDA, aPostSignature, aPostTimestamp, aPostNonce, aPostBody, false, aPostPlain},
		{"B-POST", tokenB, keyB, receiveIDB, bPostSignature, bPostTimestamp, bPostNonce, bPostBody, false, bPostPlain},
		{"A-JSON", tokenA, keyA, receiveIDA, aJSONSignature, aJSONTimestamp, aJSONNonce, aJSONBody, true, aJSONPlain},
		// The envelope's tousername says wx5823…, the receive ID inside is B's:
		// the check must use the configured ID.
		{"B-JSON", tokenB, keyB, receiveIDB, bJSONSignature, bJSONTimestamp, bJSONNonce,
			`{"tousername":"wx5823bf96d3bd56c7","encrypt":"` + bJSONEncrypt + `","agentid":218}`, true, bJSONPlain},
		{"derived change_external_contact", tokenA, keyA, receiveIDA, derivedSignature, derivedTimestamp, derivedNonce,
			string((Sealed{Encrypt: derivedEncrypt}).EnvelopeXML(receiveIDA, "")), false, derivedPlain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, tt.token, tt.key, tt.rid)
			var got []byte
			var err error
			if tt.json {
				got, err = c.DecryptJSONMsg(tt.sig, tt.ts, tt.nonce, []byte(tt.body))
			} else {
				got, err = c.DecryptMsg(tt.sig, tt.ts, tt.nonce, []byte(tt.body))
			}
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("plaintext = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDerivedVectorEncrypt(t *testing.T) {
	key, err := ParseEncodingAESKey(keyA)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := EncryptWithRandom(key, []byte(derivedRandom), []byte(derivedPlain), receiveIDA)
	if err != nil {
		t.Fatal(err)
	}
	if enc != derivedEncrypt {
		t.Fatalf("Encrypt = %s, want %s", enc, derivedEncrypt)
	}
	if sig := Signature(tokenA, derivedTimestamp, derivedNonce, enc); sig != derivedSignature {
		t.Fatalf("Signature = %s, want %s", sig, derivedSignature)
	}
}

// The official vectors' internals: pad values 7 and 30 prove 32-byte blocks.
func TestPaddingOfficialVectors(t *testing.T) {
	for _, tc := range []struct {
		key, enc string
		pad      int
	}{
		{keyA, aGetEchostr, 7},
		{keyA, "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==", 30},
	} {
		key, _ := ParseEncodingAESKey(tc.key)
		msg, rid, err := Decrypt(key, tc.enc)
		if err != nil {
			t.Fatal(err)
		}
		ct, _ := base64.StdEncoding.DecodeString(tc.enc)
		if got := len(ct) - 20 - len(msg) - len(rid); got != tc.pad {
			t.Errorf("pad = %d, want %d", got, tc.pad)
		}
	}
}

func TestParseEncodingAESKey(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"official A (non-canonical last char)", keyA, true},
		{"official B (non-canonical last char)", keyB, true},
		{"42 chars", keyA[:42], false},
		{"44 chars", keyA + "A", false},
		{"not base64", strings.Repeat("!", 43), false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseEncodingAESKey(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && len(k) != 32 {
				t.Fatalf("key is %d bytes", len(k))
			}
			if !tt.ok && !errors.Is(err, ErrIllegalAESKey) {
				t.Fatalf("err = %v, want -40004", err)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	c := mustNew(t, tokenB, keyB, receiveIDB)
	for _, n := range []int{0, 1, 11, 12, 31, 32, 33, 100, 4096} {
		msg := bytes.Repeat([]byte("你"), n)
		s, err := c.Seal(msg, time.Unix(1700000000, 0), "nonce123")
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.DecryptMsg(s.Signature, s.Timestamp, s.Nonce, s.EnvelopeXML(receiveIDB, "1000002"))
		if err != nil {
			t.Fatalf("len %d: %v", n, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("len %d: round trip changed the message", n)
		}
		ct, _ := base64.StdEncoding.DecodeString(s.Encrypt)
		if len(ct)%32 != 0 {
			t.Fatalf("ciphertext length %d is not a multiple of 32", len(ct))
		}
	}
	reply, err := c.EncryptMsg([]byte("<xml>ok</xml>"), time.Unix(1700000000, 0), "n")
	if err != nil || !bytes.Contains(reply, []byte("<MsgSignature><![CDATA[")) {
		t.Fatalf("EncryptMsg = %s, %v", reply, err)
	}
}

func TestErrors(t *testing.T) {
	a := mustNew(t, tokenA, keyA, receiveIDA)
	key, _ := ParseEncodingAESKey(keyA)
	goodEnc := derivedEncrypt
	badPad, _ := EncryptWithRandom(key, []byte(derivedRandom), []byte("x"), receiveIDA)
	ct, _ := base64.StdEncoding.DecodeString(badPad)
	ct[len(ct)-1] ^= 0xff // garbles the last block, so its padding byte
	badPad = base64.StdEncoding.EncodeToString(ct)

	noReceiveID, _ := EncryptWithRandom(key, []byte(derivedRandom), []byte("x"), "")
	tests := []struct {
		name     string
		c        *MsgCrypt
		sig, enc string
		want     error
	}{
		{"wrong signature", a, strings.Repeat("0", 40), goodEnc, ErrValidateSignature},
		{"upper-case signature accepted", a, strings.ToUpper(derivedSignature), goodEnc, nil},
		{"wrong token", mustNew(t, "other", keyA, receiveIDA), derivedSignature, goodEnc, ErrValidateSignature},
		{"wrong receive ID", mustNew(t, tokenA, keyA, "ww0000000000000000"), derivedSignature, goodEnc, ErrValidateReceiveID},
		{"wrong key", mustNew(t, tokenA, keyB, receiveIDA), derivedSignature, goodEnc, ErrDecryptAES},
		{"bad base64", a, "", "%%%%", ErrDecodeBase64},
		{"length not a block multiple", a, "", base64.StdEncoding.EncodeToString(make([]byte, 17)), ErrDecryptAES},
		{"empty", a, "", "", ErrDecryptAES},
		{"bad padding", a, "", badPad, ErrDecryptAES},
		{"empty receive ID when one is configured", a, "", noReceiveID, ErrValidateReceiveID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := tt.sig
			if sig == "" {
				sig = Signature(tt.c.Token, "1", "2", tt.enc)
			}
			ts, nonce := "1", "2"
			if tt.enc == goodEnc {
				ts, nonce = derivedTimestamp, derivedNonce
			}
			_, err := tt.c.DecryptEncrypt(sig, ts, nonce, tt.enc)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if CodeOf(err) == 0 {
				t.Fatalf("err %v has no code", err)
			}
		})
	}
}

func TestIllegalBuffer(t *testing.T) {
	key, _ := ParseEncodingAESKey(keyA)
	enc, _ := EncryptWithRandom(key, []byte(derivedRandom), []byte("hello"), "")
	msg, _, err := Decrypt(key, enc)
	if err != nil || string(msg) != "hello" {
		t.Fatalf("baseline: %q %v", msg, err)
	}
	// A too-short plaintext: 16 random bytes only, padded.
	short, _ := EncryptWithRandom(key, []byte(derivedRandom), nil, "")
	if _, _, err := Decrypt(key, short); err != nil {
		t.Fatalf("empty message must decrypt: %v", err)
	}
	// A length field that claims more than the plaintext holds.
	lying := sealBytes(key, append([]byte(derivedRandom), 0, 0, 0x10, 0))
	if _, _, err := Decrypt(key, lying); !errors.Is(err, ErrIllegalBuffer) {
		t.Fatalf("err = %v, want -40008", err)
	}
	tiny := sealBytes(key, []byte("0123")) // shorter than the header
	if _, _, err := Decrypt(key, tiny); !errors.Is(err, ErrIllegalBuffer) {
		t.Fatalf("err = %v, want -40008", err)
	}
}

func TestEnvelopeErrors(t *testing.T) {
	a := mustNew(t, tokenA, keyA, receiveIDA)
	for _, body := range []string{"", "not xml", "<xml></xml>", "<xml><Encrypt></Encrypt></xml>"} {
		if _, err := a.DecryptMsg("x", "1", "2", []byte(body)); !errors.Is(err, ErrParseXML) {
			t.Errorf("body %q: err = %v, want -40002", body, err)
		}
	}
	for _, body := range []string{"", "{", `{"encrypt":""}`} {
		if _, err := a.DecryptJSONMsg("x", "1", "2", []byte(body)); !errors.Is(err, ErrParseXML) {
			t.Errorf("json body %q: err = %v, want -40002", body, err)
		}
	}
}

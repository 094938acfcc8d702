package wxcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
)

const (
	// EncodingAESKeyLen is the length of an EncodingAESKey.
	EncodingAESKeyLen = 43
	keyLen            = 32
	blockSize         = 32 // PKCS#7 block size of the scheme (not AES's 16)
	randomLen         = 16
	headerLen         = randomLen + 4
)

// Key is a decoded 32-byte AES key.
type Key []byte

// ParseEncodingAESKey decodes the 43-character EncodingAESKey. It decodes
// leniently, as the official libraries do: both published test keys carry
// non-zero spare bits in their last character and a strict decoder rejects
// them.
func ParseEncodingAESKey(s string) (Key, error) {
	if len(s) != EncodingAESKeyLen {
		return nil, newError(CodeIllegalAESKey, fmt.Sprintf("length %d, want %d", len(s), EncodingAESKeyLen))
	}
	key, err := base64.StdEncoding.DecodeString(s + "=")
	if err != nil {
		return nil, newError(CodeIllegalAESKey, "not base64")
	}
	if len(key) != keyLen {
		return nil, newError(CodeIllegalAESKey, fmt.Sprintf("decodes to %d bytes, want %d", len(key), keyLen))
	}
	return key, nil
}

// Signature computes msg_signature: lower-case hex SHA-1 of the four strings
// sorted byte-wise and concatenated.
func Signature(token, timestamp, nonce, encrypt string) string {
	parts := []string{token, timestamp, nonce, encrypt}
	sort.Strings(parts)
	h := sha1.New()
	for _, p := range parts {
		io.WriteString(h, p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// VerifySignature checks msg_signature in constant time.
func VerifySignature(token, timestamp, nonce, encrypt, signature string) error {
	want := Signature(token, timestamp, nonce, encrypt)
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(signature))) != 1 {
		return ErrValidateSignature
	}
	return nil
}

// Decrypt decrypts the base64 Encrypt text and returns the message and the
// receive ID that trails it.
func Decrypt(key Key, encrypt string) (msg []byte, receiveID string, err error) {
	if len(key) != keyLen {
		return nil, "", newError(CodeIllegalAESKey, "key is not 32 bytes")
	}
	ct, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, "", newError(CodeDecodeBase64, "ciphertext is not base64")
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, "", newError(CodeDecryptAES, fmt.Sprintf("ciphertext length %d is not a positive multiple of %d", len(ct), aes.BlockSize))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, "", newError(CodeDecryptAES, err.Error())
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, key[:aes.BlockSize]).CryptBlocks(plain, ct)
	plain, err = unpad(plain)
	if err != nil {
		return nil, "", err
	}
	return split(plain)
}

func unpad(b []byte) ([]byte, error) {
	n := int(b[len(b)-1])
	if n < 1 || n > blockSize || n > len(b) {
		return nil, newError(CodeDecryptAES, "bad padding")
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, newError(CodeDecryptAES, "bad padding")
		}
	}
	return b[:len(b)-n], nil
}

func split(plain []byte) ([]byte, string, error) {
	if len(plain) < headerLen {
		return nil, "", newError(CodeIllegalBuffer, "plaintext shorter than its header")
	}
	n := binary.BigEndian.Uint32(plain[randomLen:headerLen])
	if uint64(n) > uint64(len(plain)-headerLen) {
		return nil, "", newError(CodeIllegalBuffer, "message length exceeds plaintext")
	}
	end := headerLen + int(n)
	return plain[headerLen:end], string(plain[end:]), nil
}

// Encrypt encrypts msg for receiveID with a fresh random prefix.
func Encrypt(key Key, msg []byte, receiveID string) (string, error) {
	random := make([]byte, randomLen)
	if _, err := rand.Read(random); err != nil {
		return "", newError(CodeEncryptAES, "random: "+err.Error())
	}
	return EncryptWithRandom(key, random, msg, receiveID)
}

// EncryptWithRandom encrypts with a given 16-byte random prefix; it exists for
// reproducible test vectors.
func EncryptWithRandom(key Key, random, msg []byte, receiveID string) (string, error) {
	if len(key) != keyLen {
		return "", newError(CodeIllegalAESKey, "key is not 32 bytes")
	}
	if len(random) != randomLen {
		return "", newError(CodeEncryptAES, "random prefix is not 16 bytes")
	}
	plain := make([]byte, 0, headerLen+len(msg)+len(receiveID)+blockSize)
	plain = append(plain, random...)
	plain = binary.BigEndian.AppendUint32(plain, uint32(len(msg)))
	plain = append(plain, msg...)
	plain = append(plain, receiveID...)
	pad := blockSize - len(plain)%blockSize
	for i := 0; i < pad; i++ {
		plain = append(plain, byte(pad))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", newError(CodeEncryptAES, err.Error())
	}
	cipher.NewCBCEncrypter(block, key[:aes.BlockSize]).CryptBlocks(plain, plain)
	return base64.StdEncoding.EncodeToString(plain), nil
}

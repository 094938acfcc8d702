package wxcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
)

// sealBytes PKCS#7-pads (32-byte blocks) and encrypts plain as is.
func sealBytes(key Key, plain []byte) string {
	pad := blockSize - len(plain)%blockSize
	b := append([]byte{}, plain...)
	for i := 0; i < pad; i++ {
		b = append(b, byte(pad))
	}
	block, _ := aes.NewCipher(key)
	cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(b, b)
	return base64.StdEncoding.EncodeToString(b)
}

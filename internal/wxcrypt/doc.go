// Package wxcrypt implements WeCom's callback crypto scheme (WXBizMsgCrypt):
// the SHA-1 msg_signature over the sorted (token, timestamp, nonce, encrypt)
// strings, and AES-256-CBC with IV = the first 16 key bytes, PKCS#7 padding
// to 32-byte blocks and the plaintext layout
//
//	random(16) | msg_len(4, big endian) | msg | receiveid
//
// It matches WeCom's official sample libraries byte for byte (the published
// test vectors are in the tests) and returns typed errors carrying the same
// -40001..-40011 codes. It knows nothing of HTTP or Kubernetes.
package wxcrypt

package wxcrypt

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strconv"
	"time"
)

// MsgCrypt holds one app's callback credentials, like the official
// WXBizMsgCrypt class.
type MsgCrypt struct {
	Token     string
	Key       Key
	ReceiveID string // the corp ID for self-built apps; empty skips the check
}

// New parses the EncodingAESKey and returns a MsgCrypt.
func New(token, encodingAESKey, receiveID string) (*MsgCrypt, error) {
	key, err := ParseEncodingAESKey(encodingAESKey)
	if err != nil {
		return nil, err
	}
	return &MsgCrypt{Token: token, Key: key, ReceiveID: receiveID}, nil
}

// VerifyURL answers WeCom's URL check: it verifies the signature over the
// (already URL-decoded) echostr and returns the decrypted message, which is
// the exact body to reply with.
func (c *MsgCrypt) VerifyURL(signature, timestamp, nonce, echostr string) ([]byte, error) {
	if err := VerifySignature(c.Token, timestamp, nonce, echostr, signature); err != nil {
		return nil, err
	}
	return c.open(echostr)
}

// Envelope is the outer XML (or JSON) body of an event POST.
type Envelope struct {
	ToUserName string `xml:"ToUserName" json:"tousername"`
	AgentID    string `xml:"AgentID" json:"agentid"`
	Encrypt    string `xml:"Encrypt" json:"encrypt"`
}

// ParseEnvelope reads the outer XML body of an event POST.
func ParseEnvelope(body []byte) (Envelope, error) {
	var env Envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return env, newError(CodeParseXML, "body is not the XML envelope")
	}
	if env.Encrypt == "" {
		return env, newError(CodeParseXML, "envelope has no Encrypt element")
	}
	return env, nil
}

// ParseJSONEnvelope reads the outer body of a JSON-format callback.
func ParseJSONEnvelope(body []byte) (Envelope, error) {
	var raw struct {
		ToUserName string          `json:"tousername"`
		AgentID    json.RawMessage `json:"agentid"`
		Encrypt    string          `json:"encrypt"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Envelope{}, newError(CodeParseXML, "body is not the JSON envelope")
	}
	if raw.Encrypt == "" {
		return Envelope{}, newError(CodeParseXML, "envelope has no encrypt field")
	}
	agent := string(bytes.Trim(raw.AgentID, `"`))
	return Envelope{ToUserName: raw.ToUserName, AgentID: agent, Encrypt: raw.Encrypt}, nil
}

// DecryptMsg verifies and decrypts an event POST body (XML envelope).
func (c *MsgCrypt) DecryptMsg(signature, timestamp, nonce string, body []byte) ([]byte, error) {
	env, err := ParseEnvelope(body)
	if err != nil {
		return nil, err
	}
	return c.DecryptEncrypt(signature, timestamp, nonce, env.Encrypt)
}

// DecryptJSONMsg verifies and decrypts a JSON-format event POST body.
func (c *MsgCrypt) DecryptJSONMsg(signature, timestamp, nonce string, body []byte) ([]byte, error) {
	env, err := ParseJSONEnvelope(body)
	if err != nil {
		return nil, err
	}
	return c.DecryptEncrypt(signature, timestamp, nonce, env.Encrypt)
}

// DecryptEncrypt verifies the signature over encrypt and decrypts it.
func (c *MsgCrypt) DecryptEncrypt(signature, timestamp, nonce, encrypt string) ([]byte, error) {
	if err := VerifySignature(c.Token, timestamp, nonce, encrypt, signature); err != nil {
		return nil, err
	}
	return c.open(encrypt)
}

func (c *MsgCrypt) open(encrypt string) ([]byte, error) {
	msg, rid, err := Decrypt(c.Key, encrypt)
	if err != nil {
		return nil, err
	}
	if c.ReceiveID != "" && rid != c.ReceiveID {
		return nil, ErrValidateReceiveID
	}
	return msg, nil
}

// Sealed is an encrypted, signed message as WeCom sends it.
type Sealed struct {
	Encrypt, Signature, Timestamp, Nonce string
}

// Seal encrypts msg and signs it, as WeCom does for a callback. It is used by
// the fake WeCom and the tests.
func (c *MsgCrypt) Seal(msg []byte, timestamp time.Time, nonce string) (Sealed, error) {
	enc, err := Encrypt(c.Key, msg, c.ReceiveID)
	if err != nil {
		return Sealed{}, err
	}
	ts := strconv.FormatInt(timestamp.Unix(), 10)
	return Sealed{Encrypt: enc, Signature: Signature(c.Token, ts, nonce, enc), Timestamp: ts, Nonce: nonce}, nil
}

type replyXML struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      cdata    `xml:"Encrypt"`
	MsgSignature cdata    `xml:"MsgSignature"`
	TimeStamp    string   `xml:"TimeStamp"`
	Nonce        cdata    `xml:"Nonce"`
}

type cdata struct {
	Value string `xml:",cdata"`
}

// EnvelopeXML renders the sealed message as the XML body WeCom posts (and as
// the official EncryptMsg reply envelope).
func (s Sealed) EnvelopeXML(toUserName, agentID string) []byte {
	var b bytes.Buffer
	b.WriteString("<xml><ToUserName><![CDATA[")
	b.WriteString(toUserName)
	b.WriteString("]]></ToUserName><Encrypt><![CDATA[")
	b.WriteString(s.Encrypt)
	b.WriteString("]]></Encrypt>")
	if agentID != "" {
		b.WriteString("<AgentID><![CDATA[" + agentID + "]]></AgentID>")
	}
	b.WriteString("</xml>")
	return b.Bytes()
}

// EncryptMsg builds an encrypted passive reply, like the official EncryptMsg.
func (c *MsgCrypt) EncryptMsg(reply []byte, timestamp time.Time, nonce string) ([]byte, error) {
	s, err := c.Seal(reply, timestamp, nonce)
	if err != nil {
		return nil, err
	}
	out, err := xml.Marshal(replyXML{
		Encrypt: cdata{s.Encrypt}, MsgSignature: cdata{s.Signature}, TimeStamp: s.Timestamp, Nonce: cdata{s.Nonce},
	})
	if err != nil {
		return nil, newError(CodeGenReturnXML, err.Error())
	}
	return out, nil
}

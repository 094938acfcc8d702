package wxcrypt

import (
	"errors"
	"fmt"
)

// Code is one of the error codes of WeCom's official crypto libraries.
type Code int

// The official libraries' codes (ierror.py / errorCode.php).
const (
	CodeValidateSignature Code = -40001
	CodeParseXML          Code = -40002
	CodeComputeSignature  Code = -40003
	CodeIllegalAESKey     Code = -40004
	CodeValidateReceiveID Code = -40005
	CodeEncryptAES        Code = -40006
	CodeDecryptAES        Code = -40007
	CodeIllegalBuffer     Code = -40008
	CodeEncodeBase64      Code = -40009
	CodeDecodeBase64      Code = -40010
	CodeGenReturnXML      Code = -40011
)

var codeText = map[Code]string{
	CodeValidateSignature: "signature verification failed",
	CodeParseXML:          "parse envelope failed",
	CodeComputeSignature:  "compute signature failed",
	CodeIllegalAESKey:     "illegal EncodingAESKey",
	CodeValidateReceiveID: "receive ID mismatch",
	CodeEncryptAES:        "AES encrypt failed",
	CodeDecryptAES:        "AES decrypt failed",
	CodeIllegalBuffer:     "illegal decrypted buffer",
	CodeEncodeBase64:      "base64 encode failed",
	CodeDecodeBase64:      "base64 decode failed",
	CodeGenReturnXML:      "generate reply envelope failed",
}

// Error is a crypto failure with its official code. Detail never contains
// key material or plaintext.
type Error struct {
	Code   Code
	Detail string
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return fmt.Sprintf("wxcrypt %d: %s", int(e.Code), codeText[e.Code])
	}
	return fmt.Sprintf("wxcrypt %d: %s: %s", int(e.Code), codeText[e.Code], e.Detail)
}

// Is makes errors.Is(err, ErrValidateSignature) and friends match by code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code && t.Detail == ""
}

func newError(code Code, detail string) error { return &Error{Code: code, Detail: detail} }

// Sentinels for errors.Is.
var (
	ErrValidateSignature = &Error{Code: CodeValidateSignature}
	ErrParseXML          = &Error{Code: CodeParseXML}
	ErrComputeSignature  = &Error{Code: CodeComputeSignature}
	ErrIllegalAESKey     = &Error{Code: CodeIllegalAESKey}
	ErrValidateReceiveID = &Error{Code: CodeValidateReceiveID}
	ErrEncryptAES        = &Error{Code: CodeEncryptAES}
	ErrDecryptAES        = &Error{Code: CodeDecryptAES}
	ErrIllegalBuffer     = &Error{Code: CodeIllegalBuffer}
	ErrEncodeBase64      = &Error{Code: CodeEncodeBase64}
	ErrDecodeBase64      = &Error{Code: CodeDecodeBase64}
	ErrGenReturnXML      = &Error{Code: CodeGenReturnXML}
)

// CodeOf returns the code of err, or 0 when err is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

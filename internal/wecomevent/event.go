// Package wecomevent parses decrypted WeCom callback XML into typed events.
// Elements are matched by name, in any order; unknown elements, events and
// change types are kept as they are, never an error, because WeCom adds new
// ones without notice.
package wecomevent

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Event names of interest.
const (
	EventChangeExternalContact = "change_external_contact"
	EventChangeExternalChat    = "change_external_chat"
	EventChangeExternalTag     = "change_external_tag"
)

// Event is one decrypted callback.
type Event struct {
	ToUserName   string
	FromUserName string
	CreateTime   int64 // unix seconds
	MsgType      string
	Event        string
	ChangeType   string

	// change_external_contact
	UserID         string
	ExternalUserID string
	State          string
	WelcomeCode    string
	Source         string
	FailReason     string

	// change_external_chat
	ChatID       string
	UpdateDetail string

	// change_external_tag
	ID      string
	TagType string
}

type rawEvent struct {
	ToUserName     string `xml:"ToUserName"`
	FromUserName   string `xml:"FromUserName"`
	CreateTime     string `xml:"CreateTime"`
	MsgType        string `xml:"MsgType"`
	Event          string `xml:"Event"`
	ChangeType     string `xml:"ChangeType"`
	UserID         string `xml:"UserID"`
	ExternalUserID string `xml:"ExternalUserID"`
	State          string `xml:"State"`
	WelcomeCode    string `xml:"WelcomeCode"`
	Source         string `xml:"Source"`
	FailReason     string `xml:"FailReason"`
	ChatID         string `xml:"ChatId"`
	UpdateDetail   string `xml:"UpdateDetail"`
	ID             string `xml:"Id"`
	TagType        string `xml:"TagType"`
	// Third-party (suite) form of the header.
	AuthCorpID string `xml:"AuthCorpId"`
	InfoType   string `xml:"InfoType"`
	TimeStamp  string `xml:"TimeStamp"`
}

// ErrMalformed wraps every parse failure.
var ErrMalformed = errors.New("malformed event")

// Parse reads a decrypted callback message.
func Parse(b []byte) (*Event, error) {
	var r rawEvent
	if err := xml.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	e := &Event{
		ToUserName: first(r.ToUserName, r.AuthCorpID), FromUserName: r.FromUserName,
		MsgType: r.MsgType, Event: first(r.Event, r.InfoType), ChangeType: r.ChangeType,
		UserID: r.UserID, ExternalUserID: r.ExternalUserID, State: r.State, WelcomeCode: r.WelcomeCode,
		Source: r.Source, FailReason: r.FailReason, ChatID: r.ChatID, UpdateDetail: r.UpdateDetail,
		ID: r.ID, TagType: r.TagType,
	}
	if ts := strings.TrimSpace(first(r.CreateTime, r.TimeStamp)); ts != "" {
		n, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%w: CreateTime %q is not a unix time", ErrMalformed, ts)
		}
		e.CreateTime = n
	}
	return e, nil
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// IsContactChange says whether the event is about one external contact.
func (e *Event) IsContactChange() bool {
	return e.Event == EventChangeExternalContact
}

// Validate checks what the receiver needs from a contact change.
func (e *Event) Validate() error {
	if !e.IsContactChange() {
		return nil
	}
	switch {
	case e.ExternalUserID == "":
		return fmt.Errorf("%w: change_external_contact without ExternalUserID", ErrMalformed)
	case len(e.ExternalUserID) > 256:
		return fmt.Errorf("%w: ExternalUserID longer than 256 bytes", ErrMalformed)
	case e.ChangeType == "":
		return fmt.Errorf("%w: change_external_contact without ChangeType", ErrMalformed)
	case e.CreateTime == 0:
		return fmt.Errorf("%w: change_external_contact without CreateTime", ErrMalformed)
	}
	return nil
}

// Time returns CreateTime as a time.
func (e *Event) Time() time.Time { return time.Unix(e.CreateTime, 0).UTC() }

// Kind is a short, bounded label for metrics: the event name, or "other"
// for names we do not know (so a flood of junk cannot blow up cardinality).
func (e *Event) Kind() string {
	switch e.Event {
	case EventChangeExternalContact, EventChangeExternalChat, EventChangeExternalTag,
		"change_contact", "customer_acquisition":
		return e.Event
	case "":
		if e.MsgType != "" && e.MsgType != "event" {
			return "message"
		}
	}
	return "other"
}

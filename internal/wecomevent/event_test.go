package wecomevent

import (
	"errors"
	"testing"
)

// Samples from the fact sheet (section 4), one per change type.
var samples = map[string]string{
	"add_external_contact":      `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mAAAA]]></ExternalUserID><State><![CDATA[teststate]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>`,
	"edit_external_contact":     `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[edit_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mAAAA]]></ExternalUserID><State><![CDATA[teststate]]></State></xml>`,
	"add_half_external_contact": `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_half_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mAAAA]]></ExternalUserID><State><![CDATA[teststate]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>`,
	"del_external_contact":      `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[del_external_contact]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA]]></ExternalUserID><Source><![CDATA[DELETE_BY_TRANSFER]]></Source></xml>`,
	"del_follow_user":           `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[del_follow_user]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mACHAAA]]></ExternalUserID></xml>`,
	"transfer_fail":             `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[transfer_fail]]></ChangeType><FailReason><![CDATA[customer_refused]]></FailReason><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mAAAA]]></ExternalUserID></xml>`,
}

func TestParseContactChanges(t *testing.T) {
	for ct, x := range samples {
		t.Run(ct, func(t *testing.T) {
			e, err := Parse([]byte(x))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Validate(); err != nil {
				t.Fatal(err)
			}
			if e.ChangeType != ct || !e.IsContactChange() || e.UserID != "zhangsan" || e.CreateTime != 1403610513 {
				t.Fatalf("parsed %+v", e)
			}
			if e.Kind() != EventChangeExternalContact {
				t.Fatalf("kind = %q", e.Kind())
			}
		})
	}
	e, _ := Parse([]byte(samples["add_external_contact"]))
	if e.State != "teststate" || e.WelcomeCode != "WELCOMECODE" || e.ExternalUserID != "woAJ2GCAAAXtWyujaWJHDDGi0mAAAA" {
		t.Fatalf("add fields: %+v", e)
	}
	e, _ = Parse([]byte(samples["del_external_contact"]))
	if e.Source != "DELETE_BY_TRANSFER" {
		t.Fatalf("del Source: %+v", e)
	}
	e, _ = Parse([]byte(samples["transfer_fail"]))
	if e.FailReason != "customer_refused" {
		t.Fatalf("FailReason: %+v", e)
	}
}

func TestParseOtherShapes(t *testing.T) {
	tests := []struct {
		name, xml string
		check     func(*Event) bool
	}{
		{"tag event, elements reordered, no StrategyId",
			`<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_tag]]></Event><ChangeType><![CDATA[create]]></ChangeType><Id><![CDATA[etjmgTCQAAYIEtCEn30FEiMU9jH_HaaA]]></Id><TagType><![CDATA[tag]]></TagType></xml>`,
			func(e *Event) bool {
				return e.Kind() == EventChangeExternalTag && e.ID == "etjmgTCQAAYIEtCEn30FEiMU9jH_HaaA" && !e.IsContactChange()
			}},
		{"chat event with a nested member list",
			`<xml><Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[wrx7]]></ChatId><ChangeType><![CDATA[update]]></ChangeType><UpdateDetail><![CDATA[add_member]]></UpdateDetail><MemChangeList><Item>Jack</Item><Item>Rose</Item></MemChangeList><CreateTime>1</CreateTime></xml>`,
			func(e *Event) bool { return e.ChatID == "wrx7" && e.UpdateDetail == "add_member" }},
		{"unknown change type and unknown elements",
			`<xml><CreateTime>5</CreateTime><NewThing><Deep>1</Deep></NewThing><Event>change_external_contact</Event><ChangeType>range_changed</ChangeType><ExternalUserID>wo1</ExternalUserID></xml>`,
			func(e *Event) bool { return e.ChangeType == "range_changed" && e.Validate() == nil }},
		{"third-party header",
			`<xml><SuiteId>ww4asffe99e54c0f4c</SuiteId><AuthCorpId>wxf8b4f85f3a794e77</AuthCorpId><InfoType>change_external_contact</InfoType><TimeStamp>1403610513</TimeStamp><ChangeType>add_external_contact</ChangeType><UserID>zhangsan</UserID><ExternalUserID>woAJ2GCAAAXtWyujaWJHDDGi0mACH71w</ExternalUserID></xml>`,
			func(e *Event) bool {
				return e.IsContactChange() && e.ToUserName == "wxf8b4f85f3a794e77" && e.CreateTime == 1403610513
			}},
		{"text message", `<xml><MsgType>text</MsgType><Content>hi</Content></xml>`,
			func(e *Event) bool { return e.Kind() == "message" }},
		{"unknown event", `<xml><MsgType>event</MsgType><Event>something_new</Event></xml>`,
			func(e *Event) bool { return e.Kind() == "other" && e.Validate() == nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse([]byte(tt.xml))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(e) {
				t.Fatalf("unexpected %+v", e)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, x := range []string{"", "<xml>", "not xml", "<xml><CreateTime>abc</CreateTime></xml>", "<xml><CreateTime>-1</CreateTime></xml>"} {
		if _, err := Parse([]byte(x)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) err = %v", x, err)
		}
	}
	for _, x := range []string{
		`<xml><Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType><CreateTime>1</CreateTime></xml>`,
		`<xml><Event>change_external_contact</Event><ExternalUserID>wo1</ExternalUserID><CreateTime>1</CreateTime></xml>`,
		`<xml><Event>change_external_contact</Event><ChangeType>x</ChangeType><ExternalUserID>wo1</ExternalUserID></xml>`,
	} {
		e, err := Parse([]byte(x))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Validate(); !errors.Is(err, ErrMalformed) {
			t.Errorf("Validate(%q) = %v", x, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, x := range samples {
		f.Add([]byte(x))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Parse(b)
		if err != nil {
			return
		}
		_ = e.Validate()
		_ = e.Kind()
	})
}

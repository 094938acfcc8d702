package wecom

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Int decodes a JSON number, a numeric string or null (WeCom has sent all
// three for the same field).
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (i *Int) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*i = 0
		return nil
	}
	s := string(bytes.Trim(b, `"`))
	if s == "" {
		*i = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return err
		}
		n = int64(f)
	}
	*i = Int(n)
	return nil
}

// String decodes a JSON string, a number or null.
type String string

// UnmarshalJSON implements json.Unmarshaler.
func (s *String) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*s = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = String(v)
		return nil
	}
	*s = String(b)
	return nil
}

// ExternalContact is the contact part of externalcontact/get and batch.
type ExternalContact struct {
	ExternalUserID  String           `json:"external_userid"`
	Name            String           `json:"name"`
	Position        String           `json:"position"`
	Avatar          String           `json:"avatar"`
	CorpName        String           `json:"corp_name"`
	CorpFullName    String           `json:"corp_full_name"`
	Type            Int              `json:"type"`
	Gender          Int              `json:"gender"`
	UnionID         String           `json:"unionid"`
	ExternalProfile *ExternalProfile `json:"-"`
	RawProfile      json.RawMessage  `json:"external_profile"`
}

// ExternalProfile is a WeCom user's public profile.
type ExternalProfile struct {
	ExternalCorpName String         `json:"external_corp_name"`
	ExternalAttr     []ExternalAttr `json:"external_attr"`
}

// ExternalAttr is one profile attribute.
type ExternalAttr struct {
	Type Int    `json:"type"`
	Name String `json:"name"`
	Text *struct {
		Value String `json:"value"`
	} `json:"text,omitempty"`
	Web *struct {
		URL   String `json:"url"`
		Title String `json:"title"`
	} `json:"web,omitempty"`
	MiniProgram *struct {
		AppID    String `json:"appid"`
		PagePath String `json:"pagepath"`
		Title    String `json:"title"`
	} `json:"miniprogram,omitempty"`
}

// decodeProfile parses RawProfile when it is an object; anything else (a
// string, as one SDK assumed, or null) is ignored rather than failing the
// whole contact.
func (c *ExternalContact) decodeProfile() {
	raw := bytes.TrimSpace(c.RawProfile)
	if len(raw) == 0 || raw[0] != '{' {
		return
	}
	var p ExternalProfile
	if json.Unmarshal(raw, &p) == nil {
		c.ExternalProfile = &p
	}
	c.RawProfile = nil
}

// FollowTag is a tag in externalcontact/get's follow_user.
type FollowTag struct {
	GroupName String `json:"group_name"`
	TagName   String `json:"tag_name"`
	TagID     String `json:"tag_id"`
	Type      Int    `json:"type"`
}

// FollowUser is one member who has the contact.
type FollowUser struct {
	UserID         String      `json:"userid"`
	Remark         String      `json:"remark"`
	Description    String      `json:"description"`
	CreateTime     Int         `json:"createtime"`
	Tags           []FollowTag `json:"tags"`
	TagIDs         []String    `json:"tag_id"` // batch/get_by_user gives IDs only
	RemarkCorpName String      `json:"remark_corp_name"`
	RemarkMobiles  []String    `json:"remark_mobiles"`
	OperUserID     String      `json:"oper_userid"`
	AddWay         Int         `json:"add_way"`
	State          String      `json:"state"`
}

// ContactDetail is a contact with all its follow users.
type ContactDetail struct {
	Contact     ExternalContact
	FollowUsers []FollowUser
}

// BatchItem is one (contact, follow user) row of batch/get_by_user.
type BatchItem struct {
	ExternalContact ExternalContact `json:"external_contact"`
	FollowInfo      FollowUser      `json:"follow_info"`
}

// BatchPage is one page of batch/get_by_user.
type BatchPage struct {
	Items      []BatchItem
	NextCursor string
	// Unlicensed lists follow users WeCom did not return (no interop
	// license): a walk that saw any is incomplete.
	Unlicensed []string
}

// TagGroup is a corp tag group with its tags.
type TagGroup struct {
	GroupID   String `json:"group_id"`
	GroupName String `json:"group_name"`
	Deleted   bool   `json:"deleted"`
	Tag       []struct {
		ID      String `json:"id"`
		Name    String `json:"name"`
		Deleted bool   `json:"deleted"`
	} `json:"tag"`
}

// CorpTag is a corp tag resolved by ID.
type CorpTag struct {
	ID, Name, GroupName string
}

package wecomfake

import (
	"fmt"
	"math/rand/v2"
	"sort"
)

// Corp is one fake corp's directory.
type Corp struct {
	ID     string
	Secret string
	// FollowUsers are the members with customer contact enabled, in order.
	FollowUsers []string
	Contacts    map[string]*Contact
	TagGroups   []TagGroup
	// Unlicensed members are reported in batch fail_info and not returned.
	Unlicensed map[string]bool

	index map[string][]string // follow user -> sorted contact IDs (nil = stale)
}

// Contact is a customer.
type Contact struct {
	ExternalUserID string
	Name           string
	Type           int
	Gender         int
	Avatar         string
	CorpName       string
	CorpFullName   string
	Position       string
	UnionID        string
	Follows        []*Follow
}

// Follow is one member's relation with a contact.
type Follow struct {
	UserID         string
	Remark         string
	Description    string
	CreateTime     int64
	TagIDs         []string
	PersonalTags   []string
	RemarkCorpName string
	RemarkMobiles  []string
	AddWay         int
	OperUserID     string
	State          string
}

// TagGroup is a corp tag group.
type TagGroup struct {
	ID   string
	Name string
	Tags []Tag
}

// Tag is a corp tag.
type Tag struct{ ID, Name string }

// NewCorp returns an empty corp.
func NewCorp(id, secret string) *Corp {
	return &Corp{ID: id, Secret: secret, Contacts: map[string]*Contact{}, Unlicensed: map[string]bool{}}
}

// Follow returns the contact's relation with userID, or nil.
func (c *Contact) Follow(userID string) *Follow {
	for _, f := range c.Follows {
		if f.UserID == userID {
			return f
		}
	}
	return nil
}

// RemoveFollow ends userID's relation with the contact.
func (c *Contact) RemoveFollow(userID string) {
	out := c.Follows[:0]
	for _, f := range c.Follows {
		if f.UserID != userID {
			out = append(out, f)
		}
	}
	c.Follows = out
}

// tag returns a corp tag and its group by ID.
func (c *Corp) tag(id string) (Tag, TagGroup, bool) {
	for _, g := range c.TagGroups {
		for _, t := range g.Tags {
			if t.ID == id {
				return t, g, true
			}
		}
	}
	return Tag{}, TagGroup{}, false
}

// contactsOf returns the sorted IDs of userID's contacts.
func (c *Corp) contactsOf(userID string) []string {
	if c.index == nil {
		c.index = map[string][]string{}
		for id, ct := range c.Contacts {
			for _, f := range ct.Follows {
				c.index[f.UserID] = append(c.index[f.UserID], id)
			}
		}
		for _, ids := range c.index {
			sort.Strings(ids)
		}
	}
	return c.index[userID]
}

// Changed must be called after the directory is modified directly.
func (c *Corp) Changed() { c.index = nil }

// Relations counts (contact, follow user) pairs.
func (c *Corp) Relations() int {
	n := 0
	for _, ct := range c.Contacts {
		n += len(ct.Follows)
	}
	return n
}

var (
	surnames   = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"}
	givenNames = []string{"伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "杰"}
	latinNames = []string{"Alice", "Bob", "Carol", "David", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy"}
	companies  = []string{"腾讯", "Acme", "阿里巴巴", "Globex", "华为", "Initech"}
	addWays    = []int{1, 2, 3, 4, 5, 6, 10, 16, 201, 202}
)

// SeedOptions shape a generated directory.
type SeedOptions struct {
	FollowUsers int
	Contacts    int
	// MaxFollowsPerContact: each contact has 1..this many follow users.
	MaxFollowsPerContact int
	Seed                 uint64
}

// Seed fills the corp with a deterministic directory: members, contacts with
// Chinese and Latin names, corp tags and personal tags, several add ways.
func (c *Corp) Seed(o SeedOptions) {
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	if o.MaxFollowsPerContact <= 0 {
		o.MaxFollowsPerContact = 2
	}
	for i := 0; i < o.FollowUsers; i++ {
		c.FollowUsers = append(c.FollowUsers, fmt.Sprintf("member%03d", i))
	}
	c.TagGroups = []TagGroup{
		{ID: "etGroupLevel", Name: "客户等级", Tags: []Tag{{"etLevelA", "重要"}, {"etLevelB", "普通"}}},
		{ID: "etGroupSource", Name: "Source", Tags: []Tag{{"etSrcWeb", "Website"}, {"etSrcExpo", "展会"}}},
	}
	base := int64(1700000000)
	for i := 0; i < o.Contacts; i++ {
		id := fmt.Sprintf("wm%sAbC%08dXyZ", []string{"Q", "q", "R"}[i%3], i)
		ct := &Contact{ExternalUserID: id, Type: 1 + i%2, Gender: i % 3,
			Avatar: "https://example.invalid/avatar/" + id}
		if i%2 == 0 {
			ct.Name = surnames[r.IntN(len(surnames))] + givenNames[r.IntN(len(givenNames))]
		} else {
			ct.Name = latinNames[r.IntN(len(latinNames))] + fmt.Sprintf(" %d", i)
		}
		if ct.Type == 2 {
			ct.CorpName = companies[r.IntN(len(companies))]
			ct.CorpFullName = ct.CorpName + "有限公司"
			ct.Position = "Manager"
		}
		n := 1 + r.IntN(o.MaxFollowsPerContact)
		start := r.IntN(max(1, o.FollowUsers))
		for k := 0; k < n && k < o.FollowUsers; k++ {
			u := c.FollowUsers[(start+k)%o.FollowUsers]
			f := &Follow{UserID: u, Remark: ct.Name, CreateTime: base + int64(i*60+k),
				AddWay: addWays[r.IntN(len(addWays))], OperUserID: u, State: "seed"}
			f.TagIDs = []string{c.TagGroups[0].Tags[r.IntN(2)].ID}
			if r.IntN(3) == 0 {
				f.TagIDs = append(f.TagIDs, c.TagGroups[1].Tags[r.IntN(2)].ID)
			}
			if r.IntN(4) == 0 {
				f.PersonalTags = []string{"老朋友"}
			}
			ct.Follows = append(ct.Follows, f)
		}
		c.Contacts[id] = ct
	}
	c.Changed()
}

package wecomfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault makes matching calls fail. ErrCode answers with that errcode;
// HTTPStatus with that status; Delay slows the answer down first.
type Fault struct {
	// Endpoint such as "externalcontact/get"; empty matches every endpoint
	// but gettoken.
	Endpoint   string
	ErrCode    int
	HTTPStatus int
	Delay      time.Duration
	// Times limits the fault to that many calls; 0 means until Until.
	Times int
	// Until ends the fault; zero means until Times runs out or ClearFaults.
	Until time.Time
}

// Server is a fake WeCom API server. Use it as an http.Handler.
type Server struct {
	mu       sync.Mutex
	corps    map[string]*Corp
	tokens   map[string]tokenInfo
	tokenSeq int
	faults   []*Fault
	calls    map[string]int
	perID    map[string]int // externalcontact/get calls by external_userid
	// TokenTTL is expires_in of new tokens (default 7200 s).
	TokenTTL time.Duration
	Now      func() time.Time
}

type tokenInfo struct {
	corpID  string
	expires time.Time
}

// NewServer returns a fake with the given corps.
func NewServer(corps ...*Corp) *Server {
	s := &Server{corps: map[string]*Corp{}, tokens: map[string]tokenInfo{}, calls: map[string]int{},
		TokenTTL: 7200 * time.Second, Now: time.Now, perID: map[string]int{}}
	for _, c := range corps {
		s.corps[c.ID] = c
	}
	return s
}

// AddCorp adds (or replaces) a corp.
func (s *Server) AddCorp(c *Corp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.corps[c.ID] = c
}

// Do runs fn with the corp's directory locked, to read or change it.
func (s *Server) Do(corpID string, fn func(*Corp)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.corps[corpID]
	fn(c)
	c.Changed()
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// ExpireTokens invalidates every issued token, as WeCom may do early:
// calls with them get 42001.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.tokens {
		t.expires = time.Time{}
		s.tokens[k] = t
	}
}

// Calls returns how many calls an endpoint received ("" for all).
func (s *Server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if endpoint != "" {
		return s.calls[endpoint]
	}
	n := 0
	for _, v := range s.calls {
		n += v
	}
	return n
}

// ContactCalls returns how many externalcontact/get calls asked for id.
func (s *Server) ContactCalls(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perID[id]
}

// ResetCalls zeroes the call counters.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.perID = map[string]int{}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	endpoint := strings.TrimPrefix(r.URL.Path, "/cgi-bin/")
	f := s.fault(endpoint)
	if f != nil && f.Delay > 0 {
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[endpoint]++
	switch {
	case f != nil && f.HTTPStatus != 0:
		http.Error(w, "injected", f.HTTPStatus)
		return
	case f != nil && f.ErrCode != 0:
		writeErr(w, f.ErrCode)
		return
	}
	if endpoint == "gettoken" {
		s.getToken(w, r)
		return
	}
	corp, code := s.auth(r)
	if code != 0 {
		writeErr(w, code)
		return
	}
	switch endpoint {
	case "externalcontact/get":
		s.perID[r.URL.Query().Get("external_userid")]++
		s.getContact(w, r, corp)
	case "externalcontact/batch/get_by_user":
		s.batch(w, r, corp)
	case "externalcontact/get_follow_user_list":
		users := []string{}
		for _, u := range corp.FollowUsers {
			users = append(users, u)
		}
		writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "follow_user": users})
	case "externalcontact/get_corp_tag_list":
		s.tags(w, corp)
	default:
		http.NotFound(w, r)
	}
}

// fault returns the first matching fault and consumes one of its Times.
func (s *Server) fault(endpoint string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.Now()
	for i, f := range s.faults {
		if f.Endpoint != endpoint && (f.Endpoint != "" || endpoint == "gettoken") {
			continue
		}
		if !f.Until.IsZero() && now.After(f.Until) {
			continue
		}
		cp := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &cp
	}
	return nil
}

var errMsgs = map[int]string{
	-1: "system busy", 40001: "invalid credential", 40014: "invalid access_token", 42001: "access_token expired",
	41001: "access_token missing", 40013: "invalid corpid", 40096: "invalid external userid",
	84061: "not external contact", 45009: "api freq out of limit", 45033: "api concurrent out of limit",
	40058: "invalid parameter", 48002: "api forbidden",
}

func writeErr(w http.ResponseWriter, code int) {
	msg := errMsgs[code]
	if msg == "" {
		msg = "error"
	}
	writeJSON(w, map[string]any{"errcode": code,
		"errmsg": fmt.Sprintf("%s, hint: [fake], more info at https://open.work.weixin.qq.com/devtool/query?e=%d", msg, code)})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := s.corps[q.Get("corpid")]
	if !ok {
		writeErr(w, 40013)
		return
	}
	if q.Get("corpsecret") != c.Secret {
		writeErr(w, 40001)
		return
	}
	s.tokenSeq++
	tok := fmt.Sprintf("fake-token-%s-%d", c.ID, s.tokenSeq)
	s.tokens[tok] = tokenInfo{corpID: c.ID, expires: s.Now().Add(s.TokenTTL)}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": int(s.TokenTTL.Seconds())})
}

func (s *Server) auth(r *http.Request) (*Corp, int) {
	tok := r.URL.Query().Get("access_token")
	if tok == "" {
		return nil, 41001
	}
	t, ok := s.tokens[tok]
	if !ok {
		return nil, 40014
	}
	if !s.Now().Before(t.expires) {
		return nil, 42001
	}
	return s.corps[t.corpID], 0
}

// pageSize of follow users in externalcontact/get.
const followPage = 500

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, c *Corp) {
	q := r.URL.Query()
	ct, ok := c.Contacts[q.Get("external_userid")]
	if !ok {
		if q.Get("external_userid") == "" || !strings.HasPrefix(q.Get("external_userid"), "w") {
			writeErr(w, 40096)
		} else {
			writeErr(w, 84061)
		}
		return
	}
	if len(ct.Follows) == 0 {
		writeErr(w, 84061)
		return
	}
	off, _ := strconv.Atoi(q.Get("cursor"))
	end := min(off+followPage, len(ct.Follows))
	follows := []map[string]any{}
	for _, f := range ct.Follows[min(off, end):end] {
		follows = append(follows, c.followJSON(f, true))
	}
	resp := map[string]any{"errcode": 0, "errmsg": "ok", "external_contact": contactJSON(ct), "follow_user": follows}
	if end < len(ct.Follows) {
		resp["next_cursor"] = strconv.Itoa(end)
	}
	writeJSON(w, resp)
}

func contactJSON(ct *Contact) map[string]any {
	m := map[string]any{"external_userid": ct.ExternalUserID, "name": ct.Name, "type": ct.Type,
		"gender": ct.Gender, "avatar": ct.Avatar}
	if ct.UnionID != "" {
		m["unionid"] = ct.UnionID
	}
	if ct.Type == 2 {
		m["corp_name"], m["corp_full_name"], m["position"] = ct.CorpName, ct.CorpFullName, ct.Position
		m["external_profile"] = map[string]any{"external_attr": []map[string]any{
			{"type": 0, "name": "部门", "text": map[string]any{"value": "销售"}},
			{"type": 1, "name": "官网", "web": map[string]any{"url": "https://example.invalid", "title": "主页"}},
		}}
	}
	return m
}

// followJSON renders a relation: with tag names (get) or tag IDs (batch).
func (c *Corp) followJSON(f *Follow, withNames bool) map[string]any {
	m := map[string]any{"userid": f.UserID, "remark": f.Remark, "description": f.Description,
		"createtime": f.CreateTime, "remark_corp_name": f.RemarkCorpName, "remark_mobiles": f.RemarkMobiles,
		"add_way": f.AddWay, "oper_userid": f.OperUserID, "state": f.State}
	if f.RemarkMobiles == nil {
		m["remark_mobiles"] = []string{}
	}
	if !withNames {
		ids := append([]string{}, f.TagIDs...)
		m["tag_id"] = ids
		return m
	}
	tags := []map[string]any{}
	for _, id := range f.TagIDs {
		if t, g, ok := c.tag(id); ok {
			tags = append(tags, map[string]any{"group_name": g.Name, "tag_name": t.Name, "tag_id": t.ID, "type": 1})
		}
	}
	for _, name := range f.PersonalTags {
		tags = append(tags, map[string]any{"group_name": "", "tag_name": name, "type": 2})
	}
	m["tags"] = tags
	return m
}

// batch serves batch/get_by_user: rows in (user, contact ID) order; the
// cursor is "<user index>:<offset>".
func (s *Server) batch(w http.ResponseWriter, r *http.Request, c *Corp) {
	var req struct {
		UserIDList []string `json:"userid_list"`
		UserID     string   `json:"userid"`
		Cursor     string   `json:"cursor"`
		Limit      int      `json:"limit"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.UserIDList) == 0 || len(req.UserIDList) > 100 {
		writeErr(w, 40058)
		return
	}
	limit := req.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 100)
	ui, off := 0, 0
	if req.Cursor != "" {
		if _, err := fmt.Sscanf(req.Cursor, "%d:%d", &ui, &off); err != nil {
			writeErr(w, 40058)
			return
		}
	}
	var unlicensed []string
	for _, u := range req.UserIDList {
		if c.Unlicensed[u] {
			unlicensed = append(unlicensed, u)
		}
	}
	rows := []map[string]any{}
	for ui < len(req.UserIDList) && len(rows) < limit {
		u := req.UserIDList[ui]
		ids := c.contactsOf(u)
		if c.Unlicensed[u] || off >= len(ids) {
			ui, off = ui+1, 0
			continue
		}
		ct := c.Contacts[ids[off]]
		off++
		rows = append(rows, map[string]any{"external_contact": contactJSON(ct), "follow_info": c.followJSON(ct.Follow(u), false)})
	}
	resp := map[string]any{"errcode": 0, "errmsg": "ok", "external_contact_list": rows}
	for ui < len(req.UserIDList) && (c.Unlicensed[req.UserIDList[ui]] || off >= len(c.contactsOf(req.UserIDList[ui]))) {
		ui, off = ui+1, 0
	}
	if ui < len(req.UserIDList) {
		resp["next_cursor"] = fmt.Sprintf("%d:%d", ui, off)
	}
	if len(unlicensed) > 0 {
		resp["fail_info"] = map[string]any{"unlicensed_userid_list": unlicensed}
	}
	writeJSON(w, resp)
}

func (s *Server) tags(w http.ResponseWriter, c *Corp) {
	groups := []map[string]any{}
	for i, g := range c.TagGroups {
		tags := []map[string]any{}
		for j, t := range g.Tags {
			tags = append(tags, map[string]any{"id": t.ID, "name": t.Name, "create_time": 1700000000, "order": j})
		}
		groups = append(groups, map[string]any{"group_id": g.ID, "group_name": g.Name, "create_time": 1700000000, "order": i, "tag": tags})
	}
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "tag_group": groups})
}

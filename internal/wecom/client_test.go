package wecom_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wecom-operator/wecom-operator/internal/wecom"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
)

const corpID, secret = "ww1436e0e65a779aee", "corp-secret"

func setup(t *testing.T, contacts int) (*wecomfake.Server, *wecom.Client, wecom.Creds) {
	t.Helper()
	corp := wecomfake.NewCorp(corpID, secret)
	corp.Seed(wecomfake.SeedOptions{FollowUsers: 5, Contacts: contacts, MaxFollowsPerContact: 3, Seed: 1})
	fake := wecomfake.NewServer(corp)
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	o := wecom.DefaultOptions(ts.URL)
	o.BackoffBase = time.Millisecond
	o.RatePerSecond = 10000
	o.Burst = 1000
	return fake, wecom.New(o), wecom.Creds{CorpID: corpID, Secret: secret}
}

func TestTokenCachedAndSingleFlight(t *testing.T) {
	fake, c, creds := setup(t, 1)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Token(context.Background(), creds); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := c.FollowUserList(context.Background(), creds); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls("gettoken"); n != 1 {
		t.Fatalf("gettoken called %d times, want 1", n)
	}
}

func TestTokenRefetchedOnceWhenInvalid(t *testing.T) {
	for _, code := range []int{40014, 42001, 40001} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			fake, c, creds := setup(t, 1)
			ctx := context.Background()
			if _, err := c.FollowUserList(ctx, creds); err != nil {
				t.Fatal(err)
			}
			fake.Inject(wecomfake.Fault{Endpoint: "externalcontact/get_follow_user_list", ErrCode: code, Times: 1})
			if _, err := c.FollowUserList(ctx, creds); err != nil {
				t.Fatalf("not recovered: %v", err)
			}
			if n := fake.Calls("gettoken"); n != 2 {
				t.Fatalf("gettoken called %d times, want 2", n)
			}
			// A persistent token error is not retried in a loop.
			fake.Inject(wecomfake.Fault{Endpoint: "externalcontact/get_follow_user_list", ErrCode: code, Times: 100})
			_, err := c.FollowUserList(ctx, creds)
			if wecom.ErrCode(err) != code {
				t.Fatalf("err = %v, want errcode %d", err, code)
			}
			if n := fake.Calls("externalcontact/get_follow_user_list"); n != 5 {
				t.Fatalf("%d calls, want 5 (ok; failed+retried; failed+retried once)", n)
			}
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	fake, c, creds := setup(t, 1)
	ctx := context.Background()
	if _, err := c.FollowUserList(ctx, creds); err != nil {
		t.Fatal(err)
	}
	fake.ExpireTokens()
	if _, err := c.FollowUserList(ctx, creds); err != nil {
		t.Fatalf("expired token not replaced: %v", err)
	}
	if n := fake.Calls("gettoken"); n != 2 {
		t.Fatalf("gettoken %d", n)
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	fake, _, creds := setup(t, 1)
	now := time.Unix(1700000000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	fake.Now = clock
	ts := httptest.NewServer(fake)
	defer ts.Close()
	o := wecom.DefaultOptions(ts.URL)
	o.Now = clock
	c := wecom.New(o)
	ctx := context.Background()
	if _, err := c.Token(ctx, creds); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(7200*time.Second - 4*time.Minute) // inside the 5-minute margin
	mu.Unlock()
	if _, err := c.FollowUserList(ctx, creds); err != nil {
		t.Fatal(err)
	}
	if n, e := fake.Calls("gettoken"), fake.Calls("externalcontact/get_follow_user_list"); n != 2 || e != 1 {
		t.Fatalf("gettoken %d, list %d: the token must be refreshed before it expires, without a failed call", n, e)
	}
}

func TestWrongSecret(t *testing.T) {
	_, c, creds := setup(t, 1)
	creds.Secret = "wrong"
	_, err := c.Token(context.Background(), creds)
	if wecom.ErrCode(err) != 40001 || !wecom.IsConfig(err) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Fatalf("error leaks the secret: %v", err)
	}
}

func TestTransientErrorsRetried(t *testing.T) {
	for _, f := range []wecomfake.Fault{{ErrCode: -1, Times: 2}, {ErrCode: 45033, Times: 2}, {HTTPStatus: 502, Times: 2}} {
		t.Run(fmt.Sprintf("%d/%d", f.ErrCode, f.HTTPStatus), func(t *testing.T) {
			fake, c, creds := setup(t, 1)
			f.Endpoint = "externalcontact/get_follow_user_list"
			fake.Inject(f)
			users, err := c.FollowUserList(context.Background(), creds)
			if err != nil || len(users) != 5 {
				t.Fatalf("%v %v", users, err)
			}
			if n := fake.Calls(f.Endpoint); n != 3 {
				t.Fatalf("%d calls, want 3", n)
			}
		})
	}
}

func TestTimeoutRetried(t *testing.T) {
	fake, _, creds := setup(t, 1)
	ts := httptest.NewServer(fake)
	defer ts.Close()
	o := wecom.DefaultOptions(ts.URL)
	o.CallTimeout, o.BackoffBase = 100*time.Millisecond, time.Millisecond
	c := wecom.New(o)
	fake.Inject(wecomfake.Fault{Endpoint: "externalcontact/get_follow_user_list", Delay: time.Second, Times: 1})
	if _, err := c.FollowUserList(context.Background(), creds); err != nil {
		t.Fatalf("slow answer not retried: %v", err)
	}
}

func TestRateLimitBlocksCorp(t *testing.T) {
	fake, _, creds := setup(t, 1)
	now := time.Unix(1700000000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ts := httptest.NewServer(fake)
	defer ts.Close()
	o := wecom.DefaultOptions(ts.URL)
	o.Now = clock
	c := wecom.New(o)
	ctx := context.Background()
	fake.Inject(wecomfake.Fault{Endpoint: "externalcontact/get_follow_user_list", ErrCode: 45009, Times: 1})
	_, err := c.FollowUserList(ctx, creds)
	rl, ok := wecom.AsRateLimited(err)
	if !ok || rl.RetryAfter != time.Minute {
		t.Fatalf("err = %v, want a one-minute block", err)
	}
	calls := fake.Calls("")
	if _, err := c.FollowUserList(ctx, creds); err == nil {
		t.Fatal("call went through during the block")
	}
	if fake.Calls("") != calls {
		t.Fatal("a blocked corp must not call WeCom")
	}
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	if _, err := c.FollowUserList(ctx, creds); err != nil {
		t.Fatalf("after the block: %v", err)
	}
	// A 45009 right after a minute block is an hour-level block.
	fake.Inject(wecomfake.Fault{Endpoint: "externalcontact/get_follow_user_list", ErrCode: 45009, Times: 1})
	_, err = c.FollowUserList(ctx, creds)
	if rl, ok := wecom.AsRateLimited(err); !ok || rl.RetryAfter != time.Hour {
		t.Fatalf("err = %v, want an hour block", err)
	}
}

func TestGetContact(t *testing.T) {
	fake, c, creds := setup(t, 3)
	var id string
	fake.Do(corpID, func(corp *wecomfake.Corp) {
		for k := range corp.Contacts {
			id = k
			break
		}
		// More than 500 follow users: the cursor must be followed.
		ct := corp.Contacts[id]
		for i := 0; i < 1200; i++ {
			ct.Follows = append(ct.Follows, &wecomfake.Follow{UserID: fmt.Sprintf("extra%04d", i), CreateTime: 1700000000})
		}
	})
	d, err := c.GetContact(context.Background(), creds, id)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Contact.ExternalUserID) != id || d.Contact.Name == "" || len(d.FollowUsers) < 1201 {
		t.Fatalf("got %s %q with %d follow users", d.Contact.ExternalUserID, d.Contact.Name, len(d.FollowUsers))
	}
	if n := fake.Calls("externalcontact/get"); n != 3 {
		t.Fatalf("%d pages, want 3", n)
	}
	_, err = c.GetContact(context.Background(), creds, "wmNoSuchContact")
	if !wecom.IsGone(err) {
		t.Fatalf("err = %v, want 84061", err)
	}
}

func TestBatchWalk(t *testing.T) {
	fake, c, creds := setup(t, 250)
	ctx := context.Background()
	users, err := c.FollowUserList(ctx, creds)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	cursor, pages := "", 0
	for {
		p, err := c.BatchGetByUser(ctx, creds, users, cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range p.Items {
			seen[string(it.ExternalContact.ExternalUserID)+"/"+string(it.FollowInfo.UserID)]++
			if len(it.FollowInfo.TagIDs) == 0 {
				t.Fatalf("batch rows carry tag IDs")
			}
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	var want int
	fake.Do(corpID, func(corp *wecomfake.Corp) { want = corp.Relations() })
	if len(seen) != want {
		t.Fatalf("saw %d relations, want %d", len(seen), want)
	}
	if min := (want + 99) / 100; pages > min+len(users) {
		t.Fatalf("%d pages for %d relations", pages, want)
	}
	tags, err := c.CorpTags(ctx, creds)
	if err != nil || tags["etLevelA"].Name != "重要" || tags["etLevelA"].GroupName != "客户等级" {
		t.Fatalf("tags %v %v", tags, err)
	}
}

// TestLenientDecoding: numbers as strings, nulls, and an external_profile
// that is not an object must not fail a contact.
func TestLenientDecoding(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "gettoken") {
			_, _ = w.Write([]byte(`{"errcode":0,"errmsg":"ok","access_token":"t","expires_in":"7200"}`))
			return
		}
		_, _ = w.Write([]byte(`{"errcode":"0","errmsg":"ok","external_contact":{"external_userid":"wmX","name":"李四","type":"2","gender":"1","position":null,"external_profile":"oops"},
		"follow_user":[{"userid":"u","createtime":"1525779812","tags":null,"remark_mobiles":null,"add_way":"1"}]}`))
	}))
	defer ts.Close()
	c := wecom.New(wecom.DefaultOptions(ts.URL))
	d, err := c.GetContact(context.Background(), wecom.Creds{CorpID: "ww1", Secret: "s"}, "wmX")
	if err != nil {
		t.Fatal(err)
	}
	if d.Contact.Type != 2 || d.Contact.Gender != 1 || d.Contact.Position != "" || d.FollowUsers[0].CreateTime != 1525779812 || d.FollowUsers[0].AddWay != 1 {
		b, _ := json.Marshal(d)
		t.Fatalf("decoded %s", b)
	}
}

func TestContextDeadline(t *testing.T) {
	fake, c, creds := setup(t, 1)
	fake.Inject(wecomfake.Fault{Delay: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.FollowUserList(ctx, creds)
	if err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %v: the caller's deadline must bound the call", err, time.Since(start))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Logf("err: %v", err)
	}
}

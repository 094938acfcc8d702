package demo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
)

// expectations are what the stream implies beyond "equal to WeCom".
type expectations struct {
	deletedByCustomer map[string]string // contact ID -> member
	transferFailed    map[string]string // contact ID -> reason
	welcomeCodes      map[string]string // contact ID -> welcome code
}

// stream plays what a sales team's morning looks like in WeCom: every change
// happens in the simulated WeCom first, then WeCom sends its callback.
func (d *run) stream(ctx context.Context) error {
	d.expect = expectations{deletedByCustomer: map[string]string{}, transferFailed: map[string]string{}, welcomeCodes: map[string]string{}}
	ids := d.ids()
	if len(ids) < 6 {
		return fmt.Errorf("the demo corp needs at least 6 contacts")
	}
	fmt.Fprintln(d.n.out, "▶ playing a stream of encrypted callbacks through the callback URL:")
	t := time.Now()
	next := func() time.Time { t = t.Add(time.Second); return t }
	newcomers := []struct{ id, name, member string }{
		{"wmDemoNew0001Aa", "周杰", "member000"}, {"wmDemoNew0002Bb", "Marie Curie", "member001"},
		{"wmDemoNew0003Cc", "林小雨", "member002"}, {"wmDemoNew0004Dd", "Ada Lovelace", "member000"},
	}
	for i, c := range newcomers {
		d.fake.Do(CorpID, func(corp *wecomfake.Corp) {
			corp.Contacts[c.id] = &wecomfake.Contact{ExternalUserID: c.id, Name: c.name, Type: 1, Gender: 1 + i%2,
				Avatar: "https://example.invalid/avatar/" + c.id,
				Follows: []*wecomfake.Follow{{UserID: c.member, CreateTime: time.Now().Unix(), AddWay: []int{1, 3, 16, 202}[i],
					OperUserID: c.id, State: "spring-campaign", TagIDs: []string{"etLevelB"}}}}
		})
		code := fmt.Sprintf("WELCOME-%d", i)
		d.expect.welcomeCodes[c.id] = code
		if err := d.send(ctx, "a customer adds "+c.member, wecomfake.ContactEvent{ChangeType: "add_external_contact",
			UserID: c.member, ExternalUserID: c.id, State: "spring-campaign", WelcomeCode: code, CreateTime: next()}); err != nil {
			return err
		}
	}
	half := "wmDemoHalf0001Ee"
	d.fake.Do(CorpID, func(corp *wecomfake.Corp) {
		corp.Contacts[half] = &wecomfake.Contact{ExternalUserID: half, Name: "Grace Hopper", Type: 2, CorpName: "Acme", CorpFullName: "Acme Inc.",
			Position: "CTO", Follows: []*wecomfake.Follow{{UserID: "member003", CreateTime: time.Now().Unix(), AddWay: 2, OperUserID: half}}}
	})
	if err := d.send(ctx, "a customer adds a member who skips verification (half add)", wecomfake.ContactEvent{
		ChangeType: "add_half_external_contact", UserID: "member003", ExternalUserID: half, WelcomeCode: "WELCOME-HALF", CreateTime: next()}); err != nil {
		return err
	}
	for _, id := range ids[1:3] {
		var member string
		d.fake.Do(CorpID, func(corp *wecomfake.Corp) {
			f := corp.Contacts[id].Follows[0]
			f.TagIDs, f.Remark, member = []string{"etLevelA", "etSrcExpo"}, "VIP（展会）", f.UserID
		})
		if err := d.send(ctx, "a member re-tags a customer (edit)", wecomfake.ContactEvent{ChangeType: "edit_external_contact",
			UserID: member, ExternalUserID: id, CreateTime: next()}); err != nil {
			return err
		}
	}
	gone := d.singleFollow(ids)
	var goneMember string
	d.fake.Do(CorpID, func(corp *wecomfake.Corp) {
		goneMember = corp.Contacts[gone].Follows[0].UserID
		delete(corp.Contacts, gone)
	})
	if err := d.send(ctx, "a member deletes a customer (del_external_contact)", wecomfake.ContactEvent{ChangeType: "del_external_contact",
		UserID: goneMember, ExternalUserID: gone, CreateTime: next()}); err != nil {
		return err
	}
	dropped := ids[3]
	var dropMember string
	d.fake.Do(CorpID, func(corp *wecomfake.Corp) { dropMember = corp.Contacts[dropped].Follows[0].UserID })
	d.expect.deletedByCustomer[dropped] = dropMember
	if err := d.send(ctx, "a customer deletes a member (del_follow_user)", wecomfake.ContactEvent{ChangeType: "del_follow_user",
		UserID: dropMember, ExternalUserID: dropped, CreateTime: next()}); err != nil {
		return err
	}
	refused := ids[4]
	d.expect.transferFailed[refused] = "customer_refused"
	if err := d.send(ctx, "a transfer to a new member fails (transfer_fail)", wecomfake.ContactEvent{ChangeType: "transfer_fail",
		UserID: "member002", ExternalUserID: refused, FailReason: "customer_refused", CreateTime: next()}); err != nil {
		return err
	}
	return nil
}

// send posts one callback as WeCom would (retrying on non-200).
func (d *run) send(ctx context.Context, what string, ev wecomfake.ContactEvent) error {
	start := time.Now()
	r, err := d.sender.EventRequest(ev.XML())
	if err != nil {
		return err
	}
	resp, err := d.sender.SendWithRetry(ctx, r, 4, 500*time.Millisecond)
	if err != nil {
		return fmt.Errorf("%s: %w", ev.ChangeType, err)
	}
	d.n.say("%-60s → %d in %v, stored", what, resp.Status, time.Since(start).Round(time.Millisecond))
	return nil
}

func (d *run) ids() []string {
	var ids []string
	d.fake.Do(CorpID, func(c *wecomfake.Corp) {
		for id := range c.Contacts {
			ids = append(ids, id)
		}
	})
	sort.Strings(ids)
	return ids
}

// singleFollow returns a contact with one follow user, not used otherwise.
func (d *run) singleFollow(ids []string) string {
	var out string
	d.fake.Do(CorpID, func(c *wecomfake.Corp) {
		for _, id := range ids[5:] {
			if len(c.Contacts[id].Follows) == 1 {
				out = id
				return
			}
		}
	})
	if out == "" {
		out = ids[5]
	}
	return out
}

// converge waits until the contacts match WeCom and the stream's
// implications, and returns what still differs after the deadline.
func (d *run) converge(ctx context.Context) []string {
	d.n.step("waiting for the reconcilers to enrich every contact from the WeCom API")
	var problems []string
	_ = poll(ctx, 90*time.Second, func() (bool, error) {
		problems = d.check(ctx)
		return len(problems) == 0, nil
	})
	d.n.done()
	return problems
}

func (d *run) check(ctx context.Context) []string {
	var list wecomv1alpha1.ExternalContactList
	if err := d.env.Client.List(ctx, &list, client.InNamespace(Namespace)); err != nil {
		return []string{err.Error()}
	}
	want := map[string]*wecomfake.Contact{}
	d.fake.Do(CorpID, func(c *wecomfake.Corp) {
		for id, ct := range c.Contacts {
			cp := *ct
			cp.Follows = append([]*wecomfake.Follow{}, ct.Follows...)
			want[id] = &cp
		}
	})
	var problems []string
	got := map[string]bool{}
	for i := range list.Items {
		ec := &list.Items[i]
		id := ec.Spec.ExternalUserID
		got[id] = true
		w, ok := want[id]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s exists but WeCom no longer has it", id))
			continue
		}
		problems = append(problems, d.checkOne(ec, w)...)
	}
	for id := range want {
		if !got[id] {
			problems = append(problems, fmt.Sprintf("%s is in WeCom but has no ExternalContact", id))
		}
	}
	sort.Strings(problems)
	return problems
}

func (d *run) checkOne(ec *wecomv1alpha1.ExternalContact, w *wecomfake.Contact) []string {
	id := ec.Spec.ExternalUserID
	var p []string
	if ec.Status.ObservedGeneration != ec.Generation || !apimeta.IsStatusConditionTrue(ec.Status.Conditions, wecomv1alpha1.ConditionReady) {
		return []string{fmt.Sprintf("%s is not synced yet", id)}
	}
	if ec.Status.Profile == nil || ec.Status.Profile.Name != w.Name {
		p = append(p, fmt.Sprintf("%s: profile name differs", id))
	}
	wantRel := map[string]string{}
	for _, f := range w.Follows {
		tags := append([]string{}, f.TagIDs...)
		sort.Strings(tags)
		wantRel[f.UserID] = strings.Join(tags, ",")
	}
	for _, f := range ec.Status.FollowUsers {
		var tags []string
		for _, t := range f.Tags {
			if t.ID != "" {
				tags = append(tags, t.ID)
			}
		}
		sort.Strings(tags)
		if wt, ok := wantRel[f.UserID]; !ok || wt != strings.Join(tags, ",") {
			p = append(p, fmt.Sprintf("%s: follow user %s differs", id, f.UserID))
		}
		if m, ok := d.expect.deletedByCustomer[id]; ok && m == f.UserID && f.RelationState != wecomv1alpha1.RelationDeletedByCustomer {
			p = append(p, fmt.Sprintf("%s: relation with %s not marked deleted by the customer", id, m))
		}
	}
	if len(ec.Status.FollowUsers) != len(wantRel) {
		p = append(p, fmt.Sprintf("%s: %d follow users, WeCom has %d", id, len(ec.Status.FollowUsers), len(wantRel)))
	}
	if r, ok := d.expect.transferFailed[id]; ok && (ec.Status.LastTransferFailure == nil || ec.Status.LastTransferFailure.Reason != r) {
		p = append(p, fmt.Sprintf("%s: transfer failure not recorded", id))
	}
	if code, ok := d.expect.welcomeCodes[id]; ok && (ec.Spec.LastEvent == nil || ec.Spec.LastEvent.WelcomeCode != code) {
		p = append(p, fmt.Sprintf("%s: welcome code not recorded", id))
	}
	return p
}

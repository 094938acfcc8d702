package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/testenv"
	"github.com/wecom-operator/wecom-operator/internal/wecomfake"
)

// waitSynced waits until the contact's status reflects its latest event.
func (f *fixture) waitSynced(t *testing.T, id string, check func(*wecomv1alpha1.ExternalContact) error) *wecomv1alpha1.ExternalContact {
	t.Helper()
	var ec *wecomv1alpha1.ExternalContact
	testenv.Eventually(t, time.Minute, func() error {
		var err error
		if ec, err = f.contact(id); err != nil {
			return err
		}
		if ec.Status.ObservedGeneration != ec.Generation || readyReason(ec) != "True/Synced" {
			return fmt.Errorf("not synced: gen %d observed %d ready %s", ec.Generation, ec.Status.ObservedGeneration, readyReason(ec))
		}
		if check != nil {
			return check(ec)
		}
		return nil
	})
	return ec
}

func (f *fixture) waitDeleted(t *testing.T, id string) {
	t.Helper()
	testenv.Eventually(t, time.Minute, func() error {
		_, err := f.contact(id)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
}

func TestAddEnrichesContact(t *testing.T) {
	f := newFixture(t, 5)
	f.waitAppReady(t)
	id, users := f.someContact(t, 1)
	for _, ct := range []string{"add_external_contact", "add_half_external_contact"} {
		f.send(t, wecomfake.ContactEvent{ChangeType: ct, UserID: users[0], ExternalUserID: id, State: "s", WelcomeCode: "W"})
		ec := f.waitSynced(t, id, func(ec *wecomv1alpha1.ExternalContact) error {
			if ec.Status.LastEvent == nil || ec.Status.LastEvent.ChangeType != ct {
				return fmt.Errorf("last event %+v", ec.Status.LastEvent)
			}
			return nil
		})
		var want *wecomfake.Contact
		fake.Do(f.corpID, func(c *wecomfake.Corp) { want = c.Contacts[id] })
		p := ec.Status.Profile
		if p == nil || p.Name != want.Name || int(p.Type) != want.Type || p.Avatar != want.Avatar || p.CorpName != want.CorpName {
			t.Fatalf("profile %+v, want %+v", p, want)
		}
		if len(ec.Status.FollowUsers) != len(want.Follows) || int(ec.Status.FollowUserCount) != len(want.Follows) {
			t.Fatalf("follow users %+v", ec.Status.FollowUsers)
		}
		fu := ec.Status.FollowUsers[0]
		if fu.UserID != want.Follows[0].UserID || fu.AddWay != int32(want.Follows[0].AddWay) || fu.CreateTime == nil ||
			fu.RelationState != wecomv1alpha1.RelationActive {
			t.Fatalf("follow user %+v", fu)
		}
		if len(fu.Tags) == 0 || fu.Tags[0].Name == "" || fu.Tags[0].GroupName == "" {
			t.Fatalf("tags without names: %+v", fu.Tags)
		}
		if want.Type == 2 && (p.ExternalProfile == nil || len(p.ExternalProfile.ExternalAttr) == 0) {
			t.Fatalf("external profile missing: %+v", p)
		}
	}
}

func TestEditRefreshesTags(t *testing.T) {
	f := newFixture(t, 5)
	f.waitAppReady(t)
	id, users := f.someContact(t, 1)
	f.send(t, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: users[0], ExternalUserID: id})
	f.waitSynced(t, id, nil)
	fake.Do(f.corpID, func(c *wecomfake.Corp) {
		c.Contacts[id].Follow(users[0]).TagIDs = []string{"etSrcExpo"}
		c.Contacts[id].Follow(users[0]).PersonalTags = nil
		c.Contacts[id].Follow(users[0]).Remark = "新备注"
		c.Contacts[id].Follow(users[0]).RemarkMobiles = []string{"13800000001"}
	})
	f.send(t, wecomfake.ContactEvent{ChangeType: "edit_external_contact", UserID: users[0], ExternalUserID: id, CreateTime: time.Now().Add(time.Second)})
	f.waitSynced(t, id, func(ec *wecomv1alpha1.ExternalContact) error {
		for _, fu := range ec.Status.FollowUsers {
			if fu.UserID == users[0] {
				if len(fu.Tags) != 1 || fu.Tags[0].Name != "展会" || fu.Remark != "新备注" ||
					len(fu.RemarkMobiles) != 1 || fu.RemarkMobiles[0] != "13800000001" {
					return fmt.Errorf("tags %+v remark %q", fu.Tags, fu.Remark)
				}
				return nil
			}
		}
		return fmt.Errorf("follow user %s missing", users[0])
	})
}

func TestDeleteByEmployee(t *testing.T) {
	f := newFixture(t, 20)
	f.waitAppReady(t)
	id, users := f.someContact(t, 2)
	f.send(t, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: users[0], ExternalUserID: id})
	f.waitSynced(t, id, nil)
	// WeCom may still list the member right after the deletion: the event wins.
	f.send(t, wecomfake.ContactEvent{ChangeType: "del_external_contact", UserID: users[0], ExternalUserID: id, CreateTime: time.Now().Add(time.Second)})
	f.waitSynced(t, id, func(ec *wecomv1alpha1.ExternalContact) error {
		for _, fu := range ec.Status.FollowUsers {
			if fu.UserID == users[0] {
				return fmt.Errorf("deleted relation still listed: %+v", fu)
			}
		}
		if int(ec.Status.FollowUserCount) != len(users)-1 {
			return fmt.Errorf("count %d", ec.Status.FollowUserCount)
		}
		return nil
	})
	// The last relation ends: under deletionPolicy Delete the object goes.
	fake.Do(f.corpID, func(c *wecomfake.Corp) { c.Contacts[id].Follows = nil })
	for i, u := range users[1:] {
		f.send(t, wecomfake.ContactEvent{ChangeType: "del_external_contact", UserID: u, ExternalUserID: id, CreateTime: time.Now().Add(time.Duration(2+i) * time.Second)})
	}
	f.waitDeleted(t, id)
}

func TestDeleteRetain(t *testing.T) {
	f := newFixture(t, 5, func(a *wecomv1alpha1.WeComApp) { a.Spec.DeletionPolicy = wecomv1alpha1.DeletionPolicyRetain })
	f.waitAppReady(t)
	id, users := f.someContact(t, 1)
	f.send(t, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: users[0], ExternalUserID: id})
	f.waitSynced(t, id, nil)
	fake.Do(f.corpID, func(c *wecomfake.Corp) { delete(c.Contacts, id) }) // 84061 from now on
	f.send(t, wecomfake.ContactEvent{ChangeType: "del_external_contact", UserID: users[0], ExternalUserID: id, CreateTime: time.Now().Add(time.Second)})
	ec := f.waitSynced(t, id, func(ec *wecomv1alpha1.ExternalContact) error {
		if !apimeta.IsStatusConditionTrue(ec.Status.Conditions, wecomv1alpha1.ConditionDeleted) {
			return fmt.Errorf("no Deleted condition: %+v", ec.Status.Conditions)
		}
		return nil
	})
	if ec.Status.FollowUserCount != 0 || len(ec.Status.FollowUsers) == 0 || ec.Status.FollowUsers[0].RelationState != wecomv1alpha1.RelationDeletedByUser {
		t.Fatalf("retained relations %+v", ec.Status.FollowUsers)
	}
	if ec.Status.Profile == nil || ec.Status.Profile.Name == "" {
		t.Fatalf("the retained contact keeps its profile: %+v", ec.Status.Profile)
	}
}

func TestUnknownContactIsGone(t *testing.T) {
	f := newFixture(t, 1)
	f.waitAppReady(t)
	// An add for a contact WeCom does not have (84061): nothing to keep.
	f.send(t, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: "member000", ExternalUserID: "wmNotThereAnyMore"})
	f.waitDeleted(t, "wmNotThereAnyMore")
}

func TestDeleteByCustomer(t *testing.T) {
	f := newFixture(t, 5)
	f.waitAppReady(t)
	id, users := f.someContact(t, 1)
	f.send(t, wecomfake.ContactEvent{ChangeType: "add_external_contact", UserID: users[0], ExternalUserID: id})
	f.waitSynced(t, id, nil)
	f.send(t, wecomfake.ContactEvent{ChangeType: "del_follow_user", UserID: users[0], ExternalUserID: id, CreateTime: time.Now().Add(time.Second)})
	f.waitSynced(t, id, func(ec *wecomv1alpha1.ExternalContact) error {
		for _, fu := range ec.Status.FollowUsers {
			if fu.UserID == users[0] && fu.RelationState == wecomv1alpha1.RelationDeletedByCustomer {
				return nil
			}
		}
		return fmt.Errorf("relation not marked: %+v", ec.Status.FollowUsers)
	})
	// An unrelated edit later keeps the mark.
	f.send(t, wecomfake.ContactEvent{ChangeType: "edit_external_contact", UserID: users[0], ExternalUserID: id, CreateTime: time.Now().Add(2 * time.Second)})
	f.waitSynced(t, id, func(ec *wecomv1alpha1.ExternalContact) error {
		if ec.Status.LastEvent.ChangeType != "edit_external_contact" {
			return fmt.Errorf("edit not processed")
		}
		if ec.Status.FollowUsers[0].RelationState != wecomv1alpha1.RelationDeletedByCustomer {
			return fmt.Errorf("mark lost: %+v", ec.Status.FollowUsers[0])
		}
		return nil
	})
}

func TestTransferFail(t *testing.T) {
	f := newFixture(t, 5)
	f.waitAppReady(t)
	id, users := f.someContact(t, 1)
	f.send(t, wecomfake.ContactEvent{ChangeType: "transfer_fail", UserID: users[0], ExternalUserID: id, FailReason: "customer_refused"})
	ec := f.waitSynced(t, id, func(ec *wecomv1alpha1.ExternalContact) error {
		if tf := ec.Status.LastTransferFailure; tf == nil || tf.Reason != "customer_refused" || tf.UserID != users[0] {
			return fmt.Errorf("transfer failure %+v", tf)
		}
		return nil
	})
	testenv.Eventually(t, time.Minute, func() error {
		var evs eventsv1.EventList
		if err := env.Client.List(context.Background(), &evs, client.InNamespace(f.ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == ec.Name && e.Reason == "TransferFailed" && e.Type == "Warning" && strings.Contains(e.Note, "customer_refused") {
				return nil
			}
		}
		return fmt.Errorf("no TransferFailed warning among %d events", len(evs.Items))
	})
}

// TestBurstCostsOneCall: several events for one contact in a burst are
// synced with one WeCom call.
func TestBurstCostsOneCall(t *testing.T) {
	f := newFixture(t, 5)
	f.waitAppReady(t)
	id, users := f.someContact(t, 1)
	fake.ResetCalls()
	base := time.Now()
	for i := 0; i < 5; i++ {
		f.send(t, wecomfake.ContactEvent{ChangeType: "edit_external_contact", UserID: users[0], ExternalUserID: id, CreateTime: base.Add(time.Duration(i) * time.Second)})
	}
	f.waitSynced(t, id, nil)
	if n := fake.Calls("externalcontact/get"); n != 1 {
		t.Fatalf("%d externalcontact/get calls for a burst of 5 events, want 1", n)
	}
}

package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/contactname"
	"github.com/wecom-operator/wecom-operator/internal/wecom"
)

// walk is one resync of one app. It streams WeCom's pages (never the whole
// corp in memory) and keeps only the set of (contact, follow user) pairs it
// saw, to prove absences at the end.
type walk struct {
	r     *ResyncReconciler
	app   *wecomv1alpha1.WeComApp
	creds wecom.Creds
	res   *wecomv1alpha1.ResyncResult
	start time.Time

	tags map[string]wecom.CorpTag
	// users numbers the follow users; seen holds, per contact ID, the
	// numbers of the follow users the walk saw it with (a few bytes per
	// contact, where a set of IDs per contact cost hundreds).
	users      map[string]int32
	seen       map[string][]int32
	incomplete error
	waited     time.Duration

	// pending holds the rows of contacts that need a write, so a contact
	// whose follow users are spread over many pages is written once. It is
	// bounded: at maxPending contacts it is flushed early.
	pending map[string][]*wecom.BatchItem
	fetched time.Time // when the oldest pending row was read
	mu      sync.Mutex
}

const (
	maxPending   = 2000
	writeWorkers = 8
)

// errIncomplete marks a walk that could not prove absences.
var errIncomplete = errors.New("walk incomplete")

func (w *walk) run(ctx context.Context) error {
	users, err := retryLimited(ctx, w, func() ([]string, error) { return w.r.WeCom.FollowUserList(ctx, w.creds) })
	if err != nil {
		return fmt.Errorf("list follow users: %w", err)
	}
	if w.tags, err = retryLimited(ctx, w, func() (map[string]wecom.CorpTag, error) { return w.r.WeCom.CorpTags(ctx, w.creds) }); err != nil {
		return fmt.Errorf("list corp tags: %w", err)
	}
	w.users = make(map[string]int32, len(users))
	for i, u := range users {
		w.users[u] = int32(i)
	}
	w.seen = map[string][]int32{}
	for i := 0; i < len(users); i += wecom.MaxBatchUsers {
		if err := w.chunk(ctx, users[i:min(i+wecom.MaxBatchUsers, len(users))]); err != nil {
			return err
		}
	}
	w.res.Seen = int64(len(w.seen))
	if w.incomplete != nil {
		return w.incomplete
	}
	w.res.Complete = true
	return w.sweep(ctx)
}

// chunk walks every page of up to 100 follow users.
func (w *walk) chunk(ctx context.Context, users []string) error {
	cursor := ""
	for {
		page, err := retryLimited(ctx, w, func() (*wecom.BatchPage, error) {
			return w.r.WeCom.BatchGetByUser(ctx, w.creds, users, cursor, wecom.MaxBatchLimit)
		})
		if err != nil {
			return fmt.Errorf("batch get by user: %w", err)
		}
		if len(page.Unlicensed) > 0 && w.incomplete == nil {
			w.incomplete = fmt.Errorf("%w: %d follow users have no interop license", errIncomplete, len(page.Unlicensed))
		}
		fetched := w.r.now()
		for _, group := range groupByContact(page.Items) {
			w.observe(ctx, group, fetched)
		}
		if len(w.pending) >= maxPending {
			w.flush(ctx)
		}
		if cursor = page.NextCursor; cursor == "" {
			w.flush(ctx) // a contact's rows are all within its users' chunk
			return nil
		}
	}
}

// retryLimited waits out 45009 blocks (bounded in total) and tries again, so
// a rate-limit window delays a resync instead of aborting it.
func retryLimited[T any](ctx context.Context, w *walk, fn func() (T, error)) (T, error) {
	for {
		v, err := fn()
		rl, ok := wecom.AsRateLimited(err)
		if !ok || w.waited+rl.RetryAfter > w.r.maxWait() {
			return v, err
		}
		w.waited += rl.RetryAfter
		t := time.NewTimer(rl.RetryAfter)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, ctx.Err()
		case <-t.C:
		}
	}
}

func (r *ResyncReconciler) maxWait() time.Duration {
	if r.MaxRateLimitWait > 0 {
		return r.MaxRateLimitWait
	}
	return 2 * time.Hour
}

// groupByContact groups a page's rows by contact, keeping page order.
func groupByContact(items []wecom.BatchItem) [][]*wecom.BatchItem {
	idx := map[string]int{}
	var out [][]*wecom.BatchItem
	for i := range items {
		id := string(items[i].ExternalContact.ExternalUserID)
		if j, ok := idx[id]; ok {
			out[j] = append(out[j], &items[i])
			continue
		}
		idx[id] = len(out)
		out = append(out, []*wecom.BatchItem{&items[i]})
	}
	return out
}

// observe records the rows of one contact and keeps them for writing when
// the contact is new or its data drifted.
func (w *walk) observe(ctx context.Context, rows []*wecom.BatchItem, fetched time.Time) {
	id := string(rows[0].ExternalContact.ExternalUserID)
	if id == "" {
		return
	}
	for _, row := range rows {
		w.saw(id, string(row.FollowInfo.UserID))
	}
	if p, ok := w.pending[id]; ok {
		w.pending[id] = append(p, rows...)
		return
	}
	if cached, err := w.r.Contacts.Get(ctx, w.app.Namespace, contactname.For(w.app.Name, id)); err == nil && cached != nil {
		ec := cached.DeepCopy()
		w.fill(ec, rows, fetched)
		if sameContent(cached, ec) {
			return // unchanged: no write, nothing kept
		}
	}
	if w.pending == nil {
		w.pending = map[string][]*wecom.BatchItem{}
		w.fetched = fetched
	}
	w.pending[id] = rows
}

// saw records that WeCom listed the contact with the follow user.
func (w *walk) saw(id, user string) {
	n, ok := w.users[user]
	if !ok { // not in the follow-user list: number it now
		n = int32(len(w.users))
		w.users[user] = n
	}
	if pairs := w.seen[id]; !slices.Contains(pairs, n) {
		w.seen[id] = append(pairs, n)
	}
}

// sawPair says whether the walk saw the contact with the follow user.
func (w *walk) sawPair(id, user string) bool {
	n, ok := w.users[user]
	return ok && slices.Contains(w.seen[id], n)
}

// flush writes the pending contacts with a few parallel workers.
func (w *walk) flush(ctx context.Context) {
	if len(w.pending) == 0 {
		return
	}
	work := make(chan []*wecom.BatchItem)
	var wg sync.WaitGroup
	for i := 0; i < writeWorkers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rows := range work {
				w.write(ctx, rows, w.fetched)
			}
		}()
	}
	for _, rows := range w.pending {
		work <- rows
	}
	close(work)
	wg.Wait()
	w.pending = nil
}

// write creates or updates one contact from all its rows.
func (w *walk) write(ctx context.Context, rows []*wecom.BatchItem, fetched time.Time) {
	id := string(rows[0].ExternalContact.ExternalUserID)
	key := client.ObjectKey{Namespace: w.app.Namespace, Name: contactname.For(w.app.Name, id)}
	cached, err := w.r.Contacts.Get(ctx, key.Namespace, key.Name)
	switch {
	case err == nil && cached == nil:
		err = w.create(ctx, key, id, rows, fetched)
	case err == nil:
		err = w.update(ctx, cached, rows, fetched)
	}
	if err != nil {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.res.Failed++
		if w.incomplete == nil {
			w.incomplete = fmt.Errorf("%w: writing contacts failed: %v", errIncomplete, err)
		}
	}
}

func (w *walk) count(n *int64) {
	w.mu.Lock()
	*n++
	w.mu.Unlock()
}

// create creates a contact WeCom has and the cluster lacks. A plain create,
// not an apply: if a callback created it meanwhile, the walk must not touch
// the callback's fresher data, so it falls back to update's guards.
func (w *walk) create(ctx context.Context, key client.ObjectKey, id string, rows []*wecom.BatchItem, fetched time.Time) error {
	ec := &wecomv1alpha1.ExternalContact{
		ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace, Labels: contactname.Labels(w.app.Name, id)},
		Spec:       wecomv1alpha1.ExternalContactSpec{AppRef: wecomv1alpha1.LocalObjectReference{Name: w.app.Name}, ExternalUserID: id},
	}
	if err := w.r.Create(ctx, ec, client.FieldOwner(ResyncFieldManager)); err != nil {
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create contact: %w", err)
		}
		cur, err := w.r.Contacts.Get(ctx, key.Namespace, key.Name)
		if err != nil || cur == nil {
			return nil // not in the cache yet: its creator's sync covers it
		}
		return w.update(ctx, cur, rows, fetched)
	}
	w.fill(ec, rows, fetched)
	if err := w.r.Status().Update(ctx, ec); err != nil {
		if apierrors.IsConflict(err) {
			return nil // a callback got there first; its sync is fresher
		}
		return fmt.Errorf("write new contact status: %w", err)
	}
	w.count(&w.res.Created)
	return nil
}

// update writes the rows' data when it drifted from the stored status. A
// contact with an event not yet synced, or synced after these rows were
// read, is left alone: its data is fresher than the page's.
//
// Status writes are updates with the read resourceVersion: the status
// subresource takes only status from the request and keeps the rest of the
// stored object, so a contact read from the compacted cache (no labels) is
// written safely, and without computing a patch.
func (w *walk) update(ctx context.Context, cached *wecomv1alpha1.ExternalContact, rows []*wecom.BatchItem, fetched time.Time) error {
	if cached.Generation != cached.Status.ObservedGeneration ||
		(cached.Status.LastSyncTime != nil && cached.Status.LastSyncTime.Time.After(fetched)) {
		return nil
	}
	ec := cached.DeepCopy()
	w.fill(ec, rows, fetched)
	if sameContent(cached, ec) {
		return nil
	}
	if err := w.r.Status().Update(ctx, ec); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return nil // changed meanwhile: the newer writer wins
		}
		return fmt.Errorf("update contact status: %w", err)
	}
	w.count(&w.res.Updated)
	return nil
}

// fill merges the rows into ec's status: the profile, and each row's follow
// user replacing the stored one (other follow users stay until the sweep).
func (w *walk) fill(ec *wecomv1alpha1.ExternalContact, rows []*wecom.BatchItem, fetched time.Time) {
	ec.Status.Profile = ProfileFrom(&rows[0].ExternalContact)
	for _, row := range rows {
		fu := FollowUserFrom(&row.FollowInfo, w.tags)
		replaced := false
		for i := range ec.Status.FollowUsers {
			old := &ec.Status.FollowUsers[i]
			if old.UserID != fu.UserID {
				continue
			}
			if old.RelationState == wecomv1alpha1.RelationDeletedByCustomer {
				fu.RelationState = wecomv1alpha1.RelationDeletedByCustomer
			}
			// batch/get_by_user returns corp tag IDs only: keep the personal
			// tags (no ID) that externalcontact/get reported.
			for _, t := range old.Tags {
				if t.ID == "" {
					fu.Tags = append(fu.Tags, t)
				}
			}
			*old, replaced = fu, true
		}
		if !replaced {
			ec.Status.FollowUsers = append(ec.Status.FollowUsers, fu)
		}
	}
	w.finish(ec, fetched)
}

// finish sets the derived fields of a synced status.
func (w *walk) finish(ec *wecomv1alpha1.ExternalContact, fetched time.Time) {
	ec.Status.FollowUserCount = int32(activeCount(ec.Status.FollowUsers))
	ec.Status.ObservedGeneration = ec.Generation
	t := metav1.NewTime(fetched)
	ec.Status.LastSyncTime = &t
	setCond(&ec.Status.Conditions, wecomv1alpha1.ConditionReady, true, ReasonSynced, "synced from WeCom", ec.Generation)
	if ec.Status.FollowUserCount > 0 {
		apimeta.RemoveStatusCondition(&ec.Status.Conditions, wecomv1alpha1.ConditionDeleted)
	}
}

// sameContent compares two statuses, ignoring when they were synced. It
// copies nothing (either side may be the cache's own object): the fields
// ignored are cleared on shallow copies.
func sameContent(a, b *wecomv1alpha1.ExternalContact) bool {
	x, y := a.Status, b.Status
	if len(x.Conditions) != len(y.Conditions) {
		return false
	}
	for i := range x.Conditions {
		cx, cy := x.Conditions[i], y.Conditions[i]
		cx.LastTransitionTime, cy.LastTransitionTime = metav1.Time{}, metav1.Time{}
		if cx != cy {
			return false
		}
	}
	x.Conditions, y.Conditions = nil, nil
	x.LastSyncTime, y.LastSyncTime = nil, nil
	return equality.Semantic.DeepEqual(x, y)
}

// sweep runs after a complete walk: relations and contacts WeCom no longer
// has are removed (contacts per deletionPolicy). Anything created, changed
// by an event or synced since the walk began is left alone. The cached
// contacts are read in place.
func (w *walk) sweep(ctx context.Context) error {
	return w.r.Contacts.Each(ctx, w.app.Namespace, w.app.Name, func(cached *wecomv1alpha1.ExternalContact) bool {
		if !w.touchedSinceStart(cached) {
			if err := w.sweepOne(ctx, cached); err != nil {
				w.count(&w.res.Failed)
			}
		}
		return ctx.Err() == nil
	})
}

func (w *walk) touchedSinceStart(ec *wecomv1alpha1.ExternalContact) bool {
	// An event not yet synced (this covers anything created during the walk
	// by a callback or by hand: its first generation is unsynced), or synced
	// during the walk although the walk did not see it. Creation times are
	// not used: their one-second resolution cannot order them against the
	// walk's start.
	return ec.Generation != ec.Status.ObservedGeneration ||
		(ec.Status.LastSyncTime != nil && ec.Status.LastSyncTime.Time.After(w.start) && w.seen[ec.Spec.ExternalUserID] == nil)
}

// sweepOne ends the relations of a cached contact that the walk did not
// see, and the contact itself (per deletionPolicy) when none is left. It
// reads the cached object in place and copies it only to change it.
func (w *walk) sweepOne(ctx context.Context, cached *wecomv1alpha1.ExternalContact) error {
	fs := cached.Status.FollowUsers
	seen := 0
	for _, fu := range fs {
		if w.sawPair(cached.Spec.ExternalUserID, fu.UserID) {
			seen++
		}
	}
	if seen > 0 && seen == len(fs) && int(cached.Status.FollowUserCount) == activeCount(fs) {
		return nil // every relation seen: nothing to change
	}
	gone := seen == 0
	if gone && w.app.Spec.DeletionPolicy != wecomv1alpha1.DeletionPolicyRetain {
		deleted, err := deleteGone(ctx, w.r.Client, cached)
		if deleted {
			w.count(&w.res.Deleted)
		}
		return err
	}
	ec := cached.DeepCopy()
	active := make([]wecomv1alpha1.FollowUser, 0, seen)
	for _, fu := range ec.Status.FollowUsers {
		if w.sawPair(ec.Spec.ExternalUserID, fu.UserID) {
			active = append(active, fu)
		}
	}
	if gone {
		active = endRelations(ec.Status.FollowUsers)
		setBool(&ec.Status.Conditions, wecomv1alpha1.ConditionDeleted, true, ReasonGone, retainedMessage, ec.Generation)
	}
	ec.Status.FollowUsers = active
	ec.Status.FollowUserCount = int32(activeCount(active))
	if sameContent(cached, ec) {
		return nil
	}
	if err := w.r.Status().Update(ctx, ec); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	if gone {
		w.count(&w.res.Deleted)
	} else {
		w.count(&w.res.Updated)
	}
	return nil
}

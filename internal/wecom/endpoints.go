package wecom

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// GetContact reads one contact with every follow user
// (externalcontact/get), following next_cursor (set only past 500 follow
// users).
func (c *Client) GetContact(ctx context.Context, creds Creds, externalUserID string) (*ContactDetail, error) {
	detail := &ContactDetail{}
	cursor := ""
	for page := 0; page < 1000; page++ {
		var resp struct {
			envelope
			ExternalContact ExternalContact `json:"external_contact"`
			FollowUser      []FollowUser    `json:"follow_user"`
			NextCursor      String          `json:"next_cursor"`
		}
		q := url.Values{"external_userid": {externalUserID}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if err := c.call(ctx, creds, http.MethodGet, "externalcontact/get", q, nil, &resp); err != nil {
			return nil, fmt.Errorf("get external contact: %w", err)
		}
		if page == 0 {
			detail.Contact = resp.ExternalContact
			detail.Contact.decodeProfile()
		}
		detail.FollowUsers = append(detail.FollowUsers, resp.FollowUser...)
		if cursor = string(resp.NextCursor); cursor == "" {
			return detail, nil
		}
	}
	return nil, fmt.Errorf("get external contact: more than 1000 pages of follow users")
}

// MaxBatchUsers and MaxBatchLimit are batch/get_by_user's limits.
const (
	MaxBatchUsers = 100
	MaxBatchLimit = 100
)

// BatchGetByUser reads one page of contacts of up to 100 follow users
// (externalcontact/batch/get_by_user, with userid_list, not the legacy
// userid parameter).
func (c *Client) BatchGetByUser(ctx context.Context, creds Creds, userIDs []string, cursor string, limit int) (*BatchPage, error) {
	if len(userIDs) == 0 || len(userIDs) > MaxBatchUsers {
		return nil, fmt.Errorf("batch get by user: %d user IDs, want 1 to %d", len(userIDs), MaxBatchUsers)
	}
	if limit <= 0 || limit > MaxBatchLimit {
		limit = MaxBatchLimit
	}
	req := map[string]any{"userid_list": userIDs, "cursor": cursor, "limit": limit}
	var resp struct {
		envelope
		List       []BatchItem `json:"external_contact_list"`
		NextCursor String      `json:"next_cursor"`
		FailInfo   struct {
			Unlicensed []String `json:"unlicensed_userid_list"`
		} `json:"fail_info"`
	}
	if err := c.call(ctx, creds, http.MethodPost, "externalcontact/batch/get_by_user", nil, req, &resp); err != nil {
		return nil, fmt.Errorf("batch get by user: %w", err)
	}
	page := &BatchPage{Items: resp.List, NextCursor: string(resp.NextCursor)}
	for i := range page.Items {
		page.Items[i].ExternalContact.decodeProfile()
	}
	for _, u := range resp.FailInfo.Unlicensed {
		page.Unlicensed = append(page.Unlicensed, string(u))
	}
	return page, nil
}

// FollowUserList lists the members with customer contact enabled
// (externalcontact/get_follow_user_list).
func (c *Client) FollowUserList(ctx context.Context, creds Creds) ([]string, error) {
	var resp struct {
		envelope
		FollowUser []String `json:"follow_user"`
	}
	if err := c.call(ctx, creds, http.MethodGet, "externalcontact/get_follow_user_list", nil, nil, &resp); err != nil {
		return nil, fmt.Errorf("get follow user list: %w", err)
	}
	out := make([]string, 0, len(resp.FollowUser))
	for _, u := range resp.FollowUser {
		out = append(out, string(u))
	}
	return out, nil
}

// CorpTags reads the corp tag library (externalcontact/get_corp_tag_list)
// and returns the live tags by ID.
func (c *Client) CorpTags(ctx context.Context, creds Creds) (map[string]CorpTag, error) {
	var resp struct {
		envelope
		TagGroup []TagGroup `json:"tag_group"`
	}
	if err := c.call(ctx, creds, http.MethodPost, "externalcontact/get_corp_tag_list", nil, map[string]any{}, &resp); err != nil {
		return nil, fmt.Errorf("get corp tag list: %w", err)
	}
	tags := map[string]CorpTag{}
	for _, g := range resp.TagGroup {
		if g.Deleted {
			continue
		}
		for _, t := range g.Tag {
			if !t.Deleted {
				tags[string(t.ID)] = CorpTag{ID: string(t.ID), Name: string(t.Name), GroupName: string(g.GroupName)}
			}
		}
	}
	return tags, nil
}

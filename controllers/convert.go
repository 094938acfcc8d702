package controllers

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	wecomv1alpha1 "github.com/wecom-operator/wecom-operator/api/v1alpha1"
	"github.com/wecom-operator/wecom-operator/internal/wecom"
)

// ProfileFrom converts WeCom's contact into the status profile.
func ProfileFrom(c *wecom.ExternalContact) *wecomv1alpha1.ContactProfile {
	p := &wecomv1alpha1.ContactProfile{
		Name: string(c.Name), Type: int32(c.Type), Gender: int32(c.Gender), Avatar: string(c.Avatar),
		CorpName: string(c.CorpName), CorpFullName: string(c.CorpFullName), Position: string(c.Position),
		UnionID: string(c.UnionID),
	}
	if ep := c.ExternalProfile; ep != nil {
		out := &wecomv1alpha1.ExternalProfile{ExternalCorpName: string(ep.ExternalCorpName)}
		for _, a := range ep.ExternalAttr {
			attr := wecomv1alpha1.ExternalAttr{Type: int32(a.Type), Name: string(a.Name)}
			if a.Text != nil {
				attr.Text = &wecomv1alpha1.ExternalAttrText{Value: string(a.Text.Value)}
			}
			if a.Web != nil {
				attr.Web = &wecomv1alpha1.ExternalAttrWeb{URL: string(a.Web.URL), Title: string(a.Web.Title)}
			}
			if a.MiniProgram != nil {
				attr.MiniProgram = &wecomv1alpha1.ExternalAttrMiniProgram{AppID: string(a.MiniProgram.AppID),
					PagePath: string(a.MiniProgram.PagePath), Title: string(a.MiniProgram.Title)}
			}
			out.ExternalAttr = append(out.ExternalAttr, attr)
		}
		p.ExternalProfile = out
	}
	return p
}

// FollowUserFrom converts one follow relation. Tags come with names
// (externalcontact/get) or as IDs resolved through tags (batch/get_by_user).
func FollowUserFrom(f *wecom.FollowUser, tags map[string]wecom.CorpTag) wecomv1alpha1.FollowUser {
	out := wecomv1alpha1.FollowUser{
		UserID: string(f.UserID), Remark: string(f.Remark), Description: string(f.Description),
		RemarkCorpName: string(f.RemarkCorpName), AddWay: int32(f.AddWay), OperUserID: string(f.OperUserID),
		State: string(f.State), RelationState: wecomv1alpha1.RelationActive,
	}
	if f.CreateTime > 0 {
		t := metav1.NewTime(time.Unix(int64(f.CreateTime), 0).UTC())
		out.CreateTime = &t
	}
	for _, m := range f.RemarkMobiles {
		out.RemarkMobiles = append(out.RemarkMobiles, string(m))
	}
	for _, t := range f.Tags {
		out.Tags = append(out.Tags, wecomv1alpha1.Tag{ID: string(t.TagID), GroupName: string(t.GroupName), Name: string(t.TagName), Type: int32(t.Type)})
	}
	for _, id := range f.TagIDs {
		tag := wecomv1alpha1.Tag{ID: string(id), Type: 1}
		if ct, ok := tags[string(id)]; ok {
			tag.Name, tag.GroupName = ct.Name, ct.GroupName
		}
		out.Tags = append(out.Tags, tag)
	}
	return out
}

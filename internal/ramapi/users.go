package ramapi

import (
	"context"
	"strconv"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// userJSON is a RAM user as CreateUser, GetUser, UpdateUser and ListUsers
// return it. UpdateDate is left out by CreateUser, as RAM does; RAM's
// LastLoginDate (console password logins) is never set, pcad has none.
type userJSON struct {
	UserId      string `json:"UserId"`
	UserName    string `json:"UserName"`
	DisplayName string `json:"DisplayName"`
	MobilePhone string `json:"MobilePhone"`
	Email       string `json:"Email"`
	Comments    string `json:"Comments"`
	CreateDate  string `json:"CreateDate"`
	UpdateDate  string `json:"UpdateDate,omitempty"`
}

func newUserJSON(p pca.Principal, withUpdate bool) userJSON {
	u := userJSON{UserId: strconv.FormatInt(p.ID, 10), UserName: p.Name, DisplayName: p.DisplayName, MobilePhone: p.MobilePhone,
		Email: p.Email, Comments: p.Comments, CreateDate: date(p.Created)}
	if withUpdate {
		u.UpdateDate = date(p.Updated)
	}
	return u
}

type userResponse struct {
	User userJSON `json:"User"`
}

func (a *API) createUser(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	in := service.UserInput{
		Name:        b.str("UserName", true),
		DisplayName: b.str("DisplayName", false),
		MobilePhone: b.str("MobilePhone", false),
		Email:       b.str("Email", false),
		Comments:    b.str("Comments", false),
	}
	r.Resource = resource("user", in.Name)
	if b.err != nil {
		return nil, b.err
	}
	u, err := a.svc.CreateUser(ctx, actor(r), in)
	if err != nil {
		return nil, err
	}
	return userResponse{User: newUserJSON(u, false)}, nil
}

func (a *API) getUser(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	name := b.str("UserName", true)
	r.Resource = resource("user", name)
	if b.err != nil {
		return nil, b.err
	}
	u, err := a.svc.GetUser(ctx, actor(r), name)
	if err != nil {
		return nil, err
	}
	return userResponse{User: newUserJSON(u, true)}, nil
}

func (a *API) updateUser(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	name := b.str("UserName", true)
	ch := service.UserChange{
		NewName:     b.opt("NewUserName"),
		DisplayName: b.opt("NewDisplayName"),
		MobilePhone: b.opt("NewMobilePhone"),
		Email:       b.opt("NewEmail"),
		Comments:    b.opt("NewComments"),
	}
	r.Resource = resource("user", name)
	if b.err != nil {
		return nil, b.err
	}
	u, err := a.svc.UpdateUser(ctx, actor(r), name, ch)
	if err != nil {
		return nil, err
	}
	return userResponse{User: newUserJSON(u, true)}, nil
}

func (a *API) deleteUser(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	name := b.str("UserName", true)
	r.Resource = resource("user", name)
	if b.err != nil {
		return nil, b.err
	}
	if err := a.svc.DeleteUser(ctx, actor(r), name); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// listUsersResponse is RAM's ListUsers answer: Marker only when truncated.
type listUsersResponse struct {
	IsTruncated bool      `json:"IsTruncated"`
	Marker      string    `json:"Marker,omitempty"`
	Users       usersJSON `json:"Users"`
}

type usersJSON struct {
	User []userJSON `json:"User"`
}

func (a *API) listUsers(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	marker := b.str("Marker", false)
	max := b.integer("MaxItems", 1, 1000)
	r.Resource = "user/*"
	if b.err != nil {
		return nil, b.err
	}
	page, err := a.svc.ListUsers(ctx, actor(r), marker, max)
	if err != nil {
		return nil, err
	}
	users := make([]userJSON, 0, len(page.Users))
	for _, u := range page.Users {
		users = append(users, newUserJSON(u, true))
	}
	return listUsersResponse{IsTruncated: page.Truncated, Marker: page.Marker, Users: usersJSON{User: users}}, nil
}

package ramapi

import (
	"context"

	"github.com/pcad-dev/pcad/internal/openapi"
)

// AccessKey statuses on the wire.
const (
	statusActive   = "Active"
	statusInactive = "Inactive"
)

func status(active bool) string {
	if active {
		return statusActive
	}
	return statusInactive
}

// keyResource names the key acted on: "user/<name>/accesskey/<id>", or
// "accesskey/<id>" when the caller acts on its own keys (no UserName).
func keyResource(user, id string) string {
	if user == "" {
		return resource("accesskey", id)
	}
	return resource("user", user, "accesskey", id)
}

// newAccessKeyJSON is the key CreateAccessKey returns: the only answer that
// carries the secret.
type newAccessKeyJSON struct {
	AccessKeyId     string `json:"AccessKeyId"`
	AccessKeySecret string `json:"AccessKeySecret"`
	Status          string `json:"Status"`
	CreateDate      string `json:"CreateDate"`
}

type createAccessKeyResponse struct {
	AccessKey newAccessKeyJSON `json:"AccessKey"`
}

func (a *API) createAccessKey(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	user := b.str("UserName", false)
	r.Resource = keyResource(user, "*")
	if b.err != nil {
		return nil, b.err
	}
	k, err := a.svc.CreateAccessKey(ctx, actor(r), user)
	if err != nil {
		return nil, err
	}
	r.Resource = keyResource(user, k.ID)
	return createAccessKeyResponse{AccessKey: newAccessKeyJSON{AccessKeyId: k.ID, AccessKeySecret: k.Secret,
		Status: status(k.Active), CreateDate: date(k.Created)}}, nil
}

// accessKeyJSON is a key as ListAccessKeys returns it.
type accessKeyJSON struct {
	AccessKeyId string `json:"AccessKeyId"`
	Status      string `json:"Status"`
	CreateDate  string `json:"CreateDate"`
}

type listAccessKeysResponse struct {
	AccessKeys accessKeysJSON `json:"AccessKeys"`
}

type accessKeysJSON struct {
	AccessKey []accessKeyJSON `json:"AccessKey"`
}

func (a *API) listAccessKeys(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	user := b.str("UserName", false)
	r.Resource = keyResource(user, "*")
	if b.err != nil {
		return nil, b.err
	}
	keys, err := a.svc.ListAccessKeys(ctx, actor(r), user)
	if err != nil {
		return nil, err
	}
	out := make([]accessKeyJSON, 0, len(keys))
	for _, k := range keys {
		out = append(out, accessKeyJSON{AccessKeyId: k.ID, Status: status(k.Active), CreateDate: date(k.Created)})
	}
	return listAccessKeysResponse{AccessKeys: accessKeysJSON{AccessKey: out}}, nil
}

func (a *API) updateAccessKey(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	user := b.str("UserName", false)
	id := b.str("UserAccessKeyId", true)
	st := b.oneOf("Status", true, statusActive, statusInactive)
	r.Resource = keyResource(user, id)
	if b.err != nil {
		return nil, b.err
	}
	if err := a.svc.SetAccessKeyActive(ctx, actor(r), user, id, st == statusActive); err != nil {
		return nil, err
	}
	return empty{}, nil
}

func (a *API) deleteAccessKey(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	user := b.str("UserName", false)
	id := b.str("UserAccessKeyId", true)
	r.Resource = keyResource(user, id)
	if b.err != nil {
		return nil, b.err
	}
	if err := a.svc.DeleteAccessKey(ctx, actor(r), user, id); err != nil {
		return nil, err
	}
	return empty{}, nil
}

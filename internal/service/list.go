package service

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// ListFilter selects end-entity certificates; zero fields do not filter.
type ListFilter struct {
	Status           pca.Status
	Type             pca.CertType
	InstanceUUID     string
	ParentIdentifier string
	ChangedFrom      time.Time // last change at or after
	ChangedBefore    time.Time // last change strictly before
}

// ListRequest is one ListCert call. Token mode when Token is set: NextToken
// continues a listing (empty = first page) with MaxResults per page; else
// page mode with CurrentPage (1-based) and ShowSize.
type ListRequest struct {
	Filter      ListFilter
	Token       bool
	NextToken   string
	MaxResults  int
	CurrentPage int
	ShowSize    int
}

// ListResponse is one page, newest first, with the exact total.
type ListResponse struct {
	Items     []pca.Certificate
	Total     int64
	NextToken string // token mode: empty on the last page
}

// ListCertificates lists the caller's end-entity certificates.
func (s *Service) ListCertificates(ctx context.Context, a Actor, req ListRequest) (ListResponse, error) {
	f := req.Filter
	q := store.ListQuery{Status: f.Status, Type: f.Type, InstanceUUID: strings.ToLower(f.InstanceUUID),
		ParentIdentifier: f.ParentIdentifier, ChangedFrom: f.ChangedFrom, ChangedBefore: f.ChangedBefore}
	binding := s.filterBinding(a, q)
	if req.Token {
		q.Limit = req.MaxResults + 1 // one more than asked shows whether a next page exists
		if req.NextToken != "" {
			last, ok := s.openToken(binding, req.NextToken)
			if !ok {
				return ListResponse{}, pca.Invalid("NextToken", "The specified parameter NextToken is not valid: it was not issued by this service for this caller and these filters.")
			}
			q.BeforeID = last
		}
	} else {
		q.Limit = req.ShowSize
		q.Offset = int64(req.CurrentPage-1) * int64(req.ShowSize)
	}
	res, err := s.store.ListCertificates(ctx, a.AccountID, q)
	if err != nil {
		return ListResponse{}, internal(err)
	}
	out := ListResponse{Items: res.Items, Total: res.Total}
	if req.Token && len(res.Items) > req.MaxResults {
		out.Items = res.Items[:req.MaxResults]
		out.NextToken = s.sealToken(binding, out.Items[len(out.Items)-1].ID)
	}
	return out, nil
}

// filterBinding is the text a NextToken is bound to: the caller (account
// and principal: a token minted for one identity fails for another, even in
// the same account) and the exact filter set (page size may change between
// pages).
func (s *Service) filterBinding(a Actor, q store.ListQuery) string {
	var b strings.Builder
	b.WriteString("pcad-listcert-v1\x00")
	b.WriteString(strconv.FormatInt(a.AccountID, 10))
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(a.PrincipalID, 10))
	for _, v := range []string{string(q.Status), string(q.Type), q.InstanceUUID, q.ParentIdentifier,
		strconv.FormatInt(q.ChangedFrom.UnixMilli(), 10), strconv.FormatInt(q.ChangedBefore.UnixMilli(), 10)} {
		b.WriteByte(0)
		b.WriteString(v)
	}
	return b.String()
}

// sealToken makes an opaque token: the last id seen and a truncated
// HMAC-SHA256 over the binding and that id.
func (s *Service) sealToken(binding string, last int64) string {
	buf := binary.AppendUvarint(nil, uint64(last))
	return base64.RawURLEncoding.EncodeToString(append(buf, s.tokenMAC(binding, buf)...))
}

// openToken checks a token and returns the last id it carries.
func (s *Service) openToken(binding, token string) (int64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 17 || len(raw) > 16+binary.MaxVarintLen64 {
		return 0, false
	}
	body, mac := raw[:len(raw)-16], raw[len(raw)-16:]
	last, n := binary.Uvarint(body)
	if n != len(body) || last == 0 || last > 1<<62 {
		return 0, false
	}
	if !hmac.Equal(mac, s.tokenMAC(binding, body)) {
		return 0, false
	}
	return int64(last), true
}

func (s *Service) tokenMAC(binding string, body []byte) []byte {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(binding))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)[:16]
}

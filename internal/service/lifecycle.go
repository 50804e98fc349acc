package service

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// DeleteCertificate removes a revoked certificate of the caller's account
// from the inventory (listings and describe calls). Its revocation stays:
// CRLs, OCSP and the status lookups by serial keep reporting it revoked.
// A certificate that is not REVOKE is a KindState error.
func (s *Service) DeleteCertificate(ctx context.Context, a Actor, identifier string) error {
	err := s.store.DeleteCertificate(ctx, a.AccountID, identifier)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return pca.NotFound("Identifier", "Certificate", identifier)
	case errors.Is(err, store.ErrState):
		return pca.StateError("CertificateNotRevoked", "The certificate %q is not revoked: only a revoked certificate can be deleted.", identifier)
	case err != nil:
		return internal(err)
	}
	return nil
}

// CertificatesBySerial returns the caller's certificates (with DER and tags)
// whose serials are among serials (hexadecimal, see NormalizeSerial; at most
// MaxStatusItems), in request order and, for one serial, by ascending id.
// Unknown serials are left out.
func (s *Service) CertificatesBySerial(ctx context.Context, a Actor, serials []string) ([]pca.Certificate, error) {
	serials, err := normalizeSerials("SerialNumber", serials)
	if err != nil {
		return nil, err
	}
	by, err := s.certificatesBySerial(ctx, a, serials)
	if err != nil {
		return nil, err
	}
	out := []pca.Certificate{}
	for _, sn := range serials {
		out = append(out, by[sn]...)
	}
	return out, nil
}

// certificatesBySerial loads the certificates with normalized serials,
// grouped by serial, each group by ascending id.
func (s *Service) certificatesBySerial(ctx context.Context, a Actor, serials []string) (map[string][]pca.Certificate, error) {
	out := map[string][]pca.Certificate{}
	if len(serials) == 0 {
		return out, nil
	}
	certs, err := s.store.CertificatesBySerial(ctx, a.AccountID, serials)
	if err != nil {
		return nil, internal(err)
	}
	slices.SortFunc(certs, func(x, y pca.Certificate) int { return cmp.Compare(x.ID, y.ID) })
	for _, c := range certs {
		out[c.SerialNumber] = append(out[c.SerialNumber], c)
	}
	return out, nil
}

// MaxTagsPerResource is how many tags one CA or certificate may carry.
const MaxTagsPerResource = 20

// UpdateRequest changes the labels of a certificate or CA. Nil fields are
// left unchanged; an empty string clears the value.
type UpdateRequest struct {
	Identifier      string
	AliasName       *string
	ResourceGroupID *string
	// Tags are added, or replace the tags with the same keys.
	Tags []pca.Tag
}

// UpdateLabels changes the alias, resource group and tags of an end-entity
// certificate or a CA of the caller's account (certificates are looked up
// first). A certificate's last-change time is set to now, even when nothing
// else changes, so ListCert's date window sees the update. More than
// MaxTagsPerResource tags in the end is a KindQuota error and changes
// nothing. A change of a CA is recorded in its log as an UPDATE.
func (s *Service) UpdateLabels(ctx context.Context, a Actor, req UpdateRequest) error {
	if req.AliasName != nil && len([]rune(*req.AliasName)) > 128 {
		return pca.Invalid("AliasName", "The specified parameter AliasName is too long: at most 128 characters.")
	}
	if req.ResourceGroupID != nil && len([]rune(*req.ResourceGroupID)) > 64 {
		return pca.Invalid("ResourceGroupId", "The specified parameter ResourceGroupId is too long: at most 64 characters.")
	}
	r, err := s.resolve(ctx, a, AnyResource, "Identifier", req.Identifier)
	if err != nil {
		return err
	}
	// Tags first: SetTags checks the quota in its transaction, so a refused
	// update leaves alias and resource group alone.
	if len(req.Tags) > 0 {
		if err := s.setTags(ctx, a, r.ID, req.Tags); err != nil {
			return err
		}
	}
	if r.Certificate {
		err = s.store.UpdateCertificate(ctx, a.AccountID, r.ID, req.AliasName, req.ResourceGroupID, s.now().UTC())
	} else if req.AliasName != nil || req.ResourceGroupID != nil {
		err = s.store.UpdateCA(ctx, a.AccountID, r.ID, req.AliasName, req.ResourceGroupID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return pca.NotFound("Identifier", r.what(), req.Identifier)
	}
	if err != nil {
		return internal(err)
	}
	var changes []string
	if req.AliasName != nil {
		changes = append(changes, fmt.Sprintf("alias set to %q", *req.AliasName))
	}
	if req.ResourceGroupID != nil {
		changes = append(changes, fmt.Sprintf("resource group set to %q", *req.ResourceGroupID))
	}
	if len(req.Tags) > 0 {
		changes = append(changes, "tags set: "+tagText(req.Tags))
	}
	if len(changes) > 0 {
		s.logCAs(ctx, []resource{r}, strings.Join(changes, "; "))
	}
	return nil
}

// setTags adds or replaces tags on a resource known to exist, refusing to
// go beyond MaxTagsPerResource.
func (s *Service) setTags(ctx context.Context, a Actor, resourceID string, tags []pca.Tag) error {
	err := s.store.SetTags(ctx, a.AccountID, resourceID, tags, MaxTagsPerResource)
	if errors.Is(err, store.ErrQuota) {
		return &pca.Error{Kind: pca.KindQuota, Detail: "Tags",
			Msg: fmt.Sprintf("The resource %q would carry more than %d tags.", resourceID, MaxTagsPerResource)}
	}
	if err != nil {
		return internal(err)
	}
	return nil
}

// MaxUploadIDs caps the ids of one UploadPcaCertToCas call.
const MaxUploadIDs = 100

// MarkUploaded records that the caller's certificates with these numeric
// ids were copied to the certificate service (UploadFlag = 1). Ids that
// name no certificate of the account are ignored; the count of those that
// do is returned.
func (s *Service) MarkUploaded(ctx context.Context, a Actor, ids []int64) (int, error) {
	if len(ids) > MaxUploadIDs {
		return 0, pca.Invalid("Ids", "The specified parameter Ids is not valid: at most %d ids per call.", MaxUploadIDs)
	}
	for _, id := range ids {
		if id <= 0 {
			return 0, pca.Invalid("Ids", "The specified parameter Ids is not valid: %d is not a positive id.", id)
		}
	}
	n, err := s.store.SetUploadFlag(ctx, a.AccountID, ids)
	if err != nil {
		return 0, internal(err)
	}
	return n, nil
}

// Page selects one page of a paged listing: CurrentPage from 1, ShowSize
// from 1 to 1000.
type Page struct {
	CurrentPage int
	ShowSize    int
}

func (p Page) check() error {
	if p.CurrentPage < 1 {
		return pca.Invalid("CurrentPage", "The specified parameter CurrentPage is not valid: pages start at 1.")
	}
	if p.ShowSize < 1 || p.ShowSize > 1000 {
		return pca.Invalid("ShowSize", "The specified parameter ShowSize is not valid: give 1 to 1000.")
	}
	return nil
}

// ClientListFilter selects the certificates of ListClientCertificates.
// Zero fields do not filter.
type ClientListFilter struct {
	ParentIdentifier string // issuing CA
	ResourceGroupID  string
}

// ListClientCertificates returns one page of the caller's client and server
// certificates (both statuses), newest first, with DER and tags, and the
// exact total. An unknown ParentIdentifier matches nothing.
func (s *Service) ListClientCertificates(ctx context.Context, a Actor, f ClientListFilter, p Page) (ListResponse, error) {
	return s.listPage(ctx, a, store.ListQuery{Types: []pca.CertType{pca.TypeClient, pca.TypeServer},
		ParentIdentifier: f.ParentIdentifier, ResourceGroupID: f.ResourceGroupID}, p)
}

// ListRevokedCertificates returns one page of the caller's revoked
// end-entity certificates still in the inventory (deleted ones are only on
// CRLs), newest first, with DER and tags, and the exact total.
func (s *Service) ListRevokedCertificates(ctx context.Context, a Actor, p Page) (ListResponse, error) {
	return s.listPage(ctx, a, store.ListQuery{Status: pca.StatusRevoke}, p)
}

func (s *Service) listPage(ctx context.Context, a Actor, q store.ListQuery, p Page) (ListResponse, error) {
	if err := p.check(); err != nil {
		return ListResponse{}, err
	}
	q.Limit = p.ShowSize
	q.Offset = int64(p.CurrentPage-1) * int64(p.ShowSize)
	res, err := s.store.ListCertificates(ctx, a.AccountID, q)
	if err != nil {
		return ListResponse{}, internal(err)
	}
	if err := s.fillDER(ctx, a, res.Items); err != nil {
		return ListResponse{}, err
	}
	return ListResponse{Items: res.Items, Total: res.Total}, nil
}

// fillDER loads the DER of listed certificates (listings carry none) in one
// store call.
func (s *Service) fillDER(ctx context.Context, a Actor, items []pca.Certificate) error {
	if len(items) == 0 {
		return nil
	}
	serials := make([]string, 0, len(items))
	for _, c := range items {
		serials = append(serials, c.SerialNumber)
	}
	slices.Sort(serials)
	full, err := s.store.CertificatesBySerial(ctx, a.AccountID, slices.Compact(serials))
	if err != nil {
		return internal(err)
	}
	der := make(map[int64][]byte, len(full))
	for _, c := range full {
		der[c.ID] = c.DER
	}
	for i := range items {
		d, ok := der[items[i].ID]
		if !ok {
			// Deleted between the two reads: keep the row, without a body.
			continue
		}
		items[i].DER = d
	}
	return nil
}

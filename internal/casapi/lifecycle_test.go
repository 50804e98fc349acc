package casapi

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
)

func TestLifecycleDateForms(t *testing.T) {
	at := time.Date(2021, 10, 28, 16, 15, 59, 999e6, time.FixedZone("UTC+8", 8*3600))
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"serial-lookup-minute-utc", lcSerialLookupDate(at), "2021-10-28T08:15Z"},
		{"revoke-list-day-midnight", lcRevokeListDate(at), "2021-10-28T00:00Z"},
		{"revoke-list-day-rolls-back-in-utc", lcRevokeListDate(time.Date(2021, 9, 2, 7, 0, 0, 0, time.FixedZone("UTC+8", 8*3600))), "2021-09-01T00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestCommaItems(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		present bool
		want    []string
		errKind pca.Kind
		wantErr bool
	}{
		{"trim-dedupe-drop-empty", " a, b ,,a ,c", true, []string{"a", "b", "c"}, 0, false},
		{"absent-required", "", false, nil, pca.KindMissing, true},
		{"only-separators", " , ,", true, nil, pca.KindMissing, true},
		{"three-is-max", "a,b,c", true, []string{"a", "b", "c"}, 0, false},
		{"four-too-many", "a,b,c,d", true, nil, pca.KindInvalid, true},
		{"item-too-long", "abcdef", true, nil, pca.KindInvalid, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{}
			if tc.present {
				v.Set("Ids", tc.value)
			}
			b := &binder{p: openapi.NewParams(v)}
			got := b.lcCommaItems("Ids", true, 3, 5)
			if tc.wantErr {
				e, ok := pca.AsError(b.err)
				if !ok || e.Kind != tc.errKind || !strings.Contains(e.Msg, "Ids") {
					t.Fatalf("err %v, want kind %d naming Ids", b.err, tc.errKind)
				}
				return
			}
			if b.err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got %q err %v, want %q", got, b.err, tc.want)
			}
		})
	}
}

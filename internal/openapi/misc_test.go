package openapi

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParams(t *testing.T) {
	src := url.Values{
		"customIdentifier": {"lower"},
		"Name":             {"first", "second"},
		"Empty":            {""},
		"Ext.1":            {"a"},
		"Ext.2":            {"b"},
		"Ext.4":            {"gap"},
		"Tags.1.Key":       {"env"},
		"Tags.1.Value":     {"prod"},
		"Tags.2.Key":       {"team"},
		"Tags.10.Key":      {"far"},
		"TagsX.1.Key":      {"other"},
	}
	p := NewParams(src)
	src.Set("Name", "mutated") // NewParams copies

	getTests := []struct {
		name   string
		get    func(string) (string, bool)
		param  string
		want   string
		wantOK bool
	}{
		{"get/first-value", p.Get, "Name", "first", true},
		{"get/empty-is-present", p.Get, "Empty", "", true},
		{"get/absent", p.Get, "Nope", "", false},
		{"get/case-sensitive", p.Get, "CustomIdentifier", "", false},
		{"getfold/case-insensitive", p.GetFold, "CustomIdentifier", "lower", true},
		{"getfold/exact", p.GetFold, "Name", "first", true},
		{"getfold/absent", p.GetFold, "nope", "", false},
	}
	for _, tc := range getTests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.get(tc.param)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("(%q) = %q, %v; want %q, %v", tc.param, got, ok, tc.want, tc.wantOK)
			}
		})
	}
	t.Run("names-sorted-and-owned", func(t *testing.T) {
		n := p.Names()
		want := []string{"Empty", "Ext.1", "Ext.2", "Ext.4", "Name", "Tags.1.Key", "Tags.1.Value", "Tags.10.Key", "Tags.2.Key", "TagsX.1.Key", "customIdentifier"}
		if !reflect.DeepEqual(n, want) || p.Len() != len(want) {
			t.Errorf("Names = %v (Len %d), want %v", n, p.Len(), want)
		}
		n[0] = "changed"
		if p.Names()[0] != "Empty" {
			t.Errorf("Names returned the internal slice")
		}
	})
	t.Run("list-stops-at-gap", func(t *testing.T) {
		if got := p.List("Ext"); !reflect.DeepEqual(got, []string{"a", "b"}) {
			t.Errorf("List(Ext) = %v", got)
		}
		if got := p.List("None"); got != nil {
			t.Errorf("List(None) = %v, want nil", got)
		}
	})
	t.Run("objects", func(t *testing.T) {
		want := []map[string]string{{"Key": "env", "Value": "prod"}, {"Key": "team"}}
		if got := p.Objects("Tags"); !reflect.DeepEqual(got, want) {
			t.Errorf("Objects(Tags) = %v, want %v", got, want)
		}
	})
	t.Run("zero-value", func(t *testing.T) {
		var z Params
		if _, ok := z.Get("x"); ok || z.Len() != 0 || len(z.Names()) != 0 {
			t.Errorf("zero Params is not empty")
		}
	})
}

func TestMemoryNonceCache(t *testing.T) {
	now := testNow
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := NewMemoryNonceCache(clock)
	ctx := context.Background()
	steps := []struct {
		name      string
		advance   time.Duration
		key       string
		nonce     string
		wantFresh bool
		wantLen   int // -1: do not check
	}{
		{"first-use", 0, "ak1", "n1", true, 1},
		{"reuse", time.Minute, "ak1", "n1", false, 1},
		{"same-nonce-other-key", 0, "ak2", "n1", true, 2},
		{"key-nonce-boundary-is-not-ambiguous", 0, "ak1n", "1", true, 3},
		{"still-remembered-before-ttl", 28 * time.Minute, "ak1", "n1", false, 3},
		{"fresh-again-after-ttl", 2 * time.Minute, "ak1", "n1", true, -1},
		{"expired-entries-purged", 31 * time.Minute, "ak3", "n9", true, 1},
	}
	for _, s := range steps {
		advance(s.advance)
		fresh, err := c.Remember(ctx, s.key, s.nonce, 30*time.Minute)
		if err != nil || fresh != s.wantFresh {
			t.Errorf("%s: Remember = %v, %v; want %v", s.name, fresh, err, s.wantFresh)
		}
		if s.wantLen >= 0 && c.Len() != s.wantLen {
			t.Errorf("%s: Len = %d, want %d", s.name, c.Len(), s.wantLen)
		}
	}
}

func TestMemoryNonceCacheConcurrent(t *testing.T) {
	c := NewMemoryNonceCache(nil)
	var fresh atomic.Int64
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			ok, _ := c.Remember(context.Background(), "ak", fmt.Sprint("n", i%10), time.Minute)
			if ok {
				fresh.Add(1)
			}
		})
	}
	wg.Wait()
	if fresh.Load() != 10 {
		t.Errorf("fresh answers = %d, want 10 (one per distinct nonce)", fresh.Load())
	}
}

func TestNewRequestID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`)
	a, b := NewRequestID(), NewRequestID()
	if !re.MatchString(a) || a == b {
		t.Errorf("NewRequestID = %q, %q; want distinct upper-case UUIDv4", a, b)
	}
}

func TestSuccessJSON(t *testing.T) {
	type ordered struct {
		B int
		A string `json:"a,omitempty"`
	}
	var nilPtr *ordered
	tests := []struct {
		name    string
		result  any
		want    string
		wantErr bool
	}{
		{"nil", nil, `{"RequestId":"R"}`, false},
		{"typed-nil-pointer", nilPtr, `{"RequestId":"R"}`, false},
		{"struct-order-kept", ordered{B: 1, A: "x"}, `{"RequestId":"R","B":1,"a":"x"}`, false},
		{"map-sorted", map[string]int{"z": 1, "a": 2}, `{"RequestId":"R","a":2,"z":1}`, false},
		{"empty-map", map[string]int{}, `{"RequestId":"R"}`, false},
		{"own-request-id-refused", map[string]string{"RequestId": "x"}, "", true},
		{"array-refused", []int{1}, "", true},
		{"string-refused", "x", "", true},
		{"unmarshalable", func() {}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := successJSON("R", tc.result)
			if (err != nil) != tc.wantErr || string(got) != tc.want {
				t.Errorf("successJSON = %s, %v; want %s (error %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestJSONToXML(t *testing.T) {
	tests := []struct {
		name string
		root string
		in   string
		want string
	}{
		{"escape-text", "XResponse", `{"M":"<a href=\"x\">&'"}`, `<XResponse><M>&lt;a href=&#34;x&#34;&gt;&amp;&#39;</M></XResponse>`},
		{"bad-names-sanitised", "XResponse", `{"1a":1,"a b":2,"":3}`, `<XResponse><_1a>1</_1a><a_b>2</a_b><_>3</_></XResponse>`},
		{"nested-arrays-flatten", "XResponse", `{"L":[[1,2],[3]]}`, `<XResponse><L>1</L><L>2</L><L>3</L></XResponse>`},
		{"numbers-verbatim", "XResponse", `{"N":12345678901234567890,"F":1.5}`, `<XResponse><N>12345678901234567890</N><F>1.5</F></XResponse>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := jsonToXML(tc.root, []byte(tc.in))
			want := xmlDeclaration + tc.want
			if err != nil || string(got) != want {
				t.Errorf("jsonToXML = %s, %v\nwant %s", got, err, want)
			}
		})
	}
}

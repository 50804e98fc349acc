package iam

import (
	"errors"
	"strings"
	"testing"
)

// doc wraps statements into a policy document.
func doc(statements ...string) string {
	return `{"Version":"1","Statement":[` + strings.Join(statements, ",") + `]}`
}

// withCond is an Allow-everything statement with the given Condition body.
func withCond(cond string) string {
	return `{"Effect":"Allow","Action":"*","Resource":"*","Condition":` + cond + `}`
}

const okStmt = `{"Effect":"Allow","Action":"yundun-cert:ListCert","Resource":"*"}`

func TestParseErrors(t *testing.T) {
	tooLong := `{"Version":"1","Statement":[` + okStmt + `],"x":"` + strings.Repeat("a", MaxDocumentChars) + `"}`
	many := make([]string, MaxStatements+1)
	for i := range many {
		many[i] = `{"Effect":"Allow","Action":"*","Resource":"*"}`
	}
	tests := []struct {
		name     string
		doc      string
		wantPath string
		wantMsg  string // substring of Msg
	}{
		// The document as a whole.
		{"empty document", ``, "", "empty"},
		{"invalid UTF-8", "{\"Version\":\"1\xff\"}", "", "UTF-8"},
		{"too long", tooLong, "", "limit is 6144"},
		{"JSON syntax error", `{"Version":"1",}`, "", "invalid JSON at offset"},
		{"JSON missing comma", `{"Version":"1" "Statement":[]}`, "", "invalid JSON at offset"},
		{"JSON missing comma in list", doc(`{"Effect":"Allow","Action":["a:b" "c:d"],"Resource":"*"}`), "", "invalid JSON at offset"},
		{"JSON extra closing brace", doc(okStmt) + `}`, "", "invalid JSON"},
		{"JSON truncated", `{"Version":"1"`, "", "unexpected end"},
		{"trailing data", doc(okStmt) + `{}`, "", "after the policy object"},
		{"not an object", `[` + okStmt + `]`, "", "must be a JSON object"},
		{"duplicate top-level key", `{"Version":"1","Version":"1","Statement":[` + okStmt + `]}`, "Version", "appears twice"},
		{"duplicate statement key", doc(`{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}`), "Statement[0].Effect", "appears twice"},
		{"duplicate condition key", doc(withCond(`{"Bool":{"acs:SecureTransport":"true","acs:SecureTransport":"false"}}`)), `Statement[0].Condition.Bool."acs:SecureTransport"`, "appears twice"},

		// Top level.
		{"unknown top-level element", `{"Version":"1","Id":"x","Statement":[` + okStmt + `]}`, "Id", "unknown element"},
		{"top-level element wrong case", `{"version":"1","Statement":[` + okStmt + `]}`, "version", "unknown element"},
		{"Version missing", `{"Statement":[` + okStmt + `]}`, "Version", "required"},
		{"Version 2", `{"Version":"2","Statement":[` + okStmt + `]}`, "Version", `must be the string "1"`},
		{"Version as number", `{"Version":1,"Statement":[` + okStmt + `]}`, "Version", "not the number 1"},
		{"Statement missing", `{"Version":"1"}`, "Statement", "required"},
		{"Statement single object", `{"Version":"1","Statement":` + okStmt + `}`, "Statement", "wrap the single statement"},
		{"Statement string", `{"Version":"1","Statement":"x"}`, "Statement", "must be a list"},
		{"Statement empty", `{"Version":"1","Statement":[]}`, "Statement", "at least one"},
		{"too many statements", doc(many...), "Statement", "limit is 100"},
		{"statement not object", doc(okStmt, `"Allow"`), "Statement[1]", "must be an object"},

		// Statement elements.
		{"unknown statement element", doc(`{"Effect":"Allow","Action":"*","Resource":"*","Foo":1}`), "Statement[0].Foo", "unknown element"},
		{"statement element wrong case", doc(`{"effect":"Allow","Action":"*","Resource":"*"}`), "Statement[0].effect", "unknown element"},
		{"Principal refused", doc(`{"Effect":"Allow","Principal":{"RAM":"*"},"Action":"*","Resource":"*"}`), "Statement[0].Principal", "resource-based"},
		{"NotResource refused", doc(`{"Effect":"Allow","Action":"*","NotResource":"*"}`), "Statement[0].NotResource", "unknown element"},
		{"Sid not string", doc(`{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}`), "Statement[0].Sid", "must be a string"},
		{"Effect missing", doc(`{"Action":"*","Resource":"*"}`), "Statement[0].Effect", "required"},
		{"Effect lower case", doc(`{"Effect":"allow","Action":"*","Resource":"*"}`), "Statement[0].Effect", "case-sensitive"},
		{"Effect other", doc(`{"Effect":"Permit","Action":"*","Resource":"*"}`), "Statement[0].Effect", `"Allow" or "Deny"`},
		{"Effect list", doc(`{"Effect":["Allow"],"Action":"*","Resource":"*"}`), "Statement[0].Effect", "not a list"},
		{"Action and NotAction", doc(`{"Effect":"Allow","Action":"*","NotAction":"ram:*","Resource":"*"}`), "Statement[0]", "both Action and NotAction"},
		{"Action missing", doc(`{"Effect":"Allow","Resource":"*"}`), "Statement[0].Action", "required"},
		{"Action empty string", doc(`{"Effect":"Allow","Action":"","Resource":"*"}`), "Statement[0].Action", "must not be empty"},
		{"Action empty list", doc(`{"Effect":"Allow","Action":[],"Resource":"*"}`), "Statement[0].Action", "empty list"},
		{"Action object", doc(`{"Effect":"Allow","Action":{},"Resource":"*"}`), "Statement[0].Action", "string or a list"},
		{"Action element not string", doc(`{"Effect":"Allow","Action":["ram:*",3],"Resource":"*"}`), "Statement[0].Action[1]", "must be a string"},
		{"Action element empty", doc(`{"Effect":"Allow","Action":["ram:*",""],"Resource":"*"}`), "Statement[0].Action[1]", "must not be empty"},
		{"Action without service", doc(`{"Effect":"Allow","Action":"ListCert","Resource":"*"}`), "Statement[0].Action", `"<service>:<action>"`},
		{"Action empty service", doc(`{"Effect":"Allow","Action":":ListCert","Resource":"*"}`), "Statement[0].Action", `"<service>:<action>"`},
		{"Action empty name", doc(`{"Effect":"Allow","Action":["ram:*","ram:"],"Resource":"*"}`), "Statement[0].Action[1]", `"<service>:<action>"`},
		{"Action two colons", doc(`{"Effect":"Allow","Action":"ram:a:b","Resource":"*"}`), "Statement[0].Action", `contains ':'`},
		{"Action space", doc(`{"Effect":"Allow","Action":"yundun-cert:List Cert","Resource":"*"}`), "Statement[0].Action", `contains ' '`},
		{"NotAction bad", doc(`{"Effect":"Deny","NotAction":["ram"],"Resource":"*"}`), "Statement[0].NotAction[0]", `"<service>:<action>"`},
		{"Resource missing", doc(`{"Effect":"Allow","Action":"*"}`), "Statement[0].Resource", "required"},
		{"Resource empty list", doc(`{"Effect":"Allow","Action":"*","Resource":[]}`), "Statement[0].Resource", "empty list"},
		{"Resource not ARN", doc(`{"Effect":"Allow","Action":"*","Resource":"ca/123"}`), "Statement[0].Resource", "must be \"*\" or an ARN"},
		{"Resource double star", doc(`{"Effect":"Allow","Action":"*","Resource":["*","**"]}`), "Statement[0].Resource[1]", "must be \"*\" or an ARN"},
		{"Resource too few segments", doc(`{"Effect":"Allow","Action":"*","Resource":"acs:yundun-cert:*:*"}`), "Statement[0].Resource", "an ARN"},
		{"Resource wrong prefix", doc(`{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b"}`), "Statement[0].Resource", "an ARN"},
		{"Resource empty service", doc(`{"Effect":"Allow","Action":"*","Resource":"acs::*:*:ca/1"}`), "Statement[0].Resource", "empty service"},
		{"Resource empty relative", doc(`{"Effect":"Allow","Action":"*","Resource":"acs:yundun-cert:*:*:"}`), "Statement[0].Resource", "empty relative-id"},
		{"Resource control char", doc(`{"Effect":"Allow","Action":"*","Resource":"acs:yundun-cert:*:*:ca/\u0001"}`), "Statement[0].Resource", "control character"},

		// Conditions.
		{"Condition not object", doc(withCond(`[]`)), "Statement[0].Condition", "must be an object"},
		{"Condition empty", doc(withCond(`{}`)), "Statement[0].Condition", "must not be empty"},
		{"operator unknown", doc(withCond(`{"StringEqual":{"acs:SourceIp":"1.2.3.4"}}`)), "Statement[0].Condition.StringEqual", "unknown condition operator"},
		{"operator wrong case", doc(withCond(`{"stringequals":{"acs:SourceIp":"1.2.3.4"}}`)), "Statement[0].Condition.stringequals", "case-sensitive"},
		{"operator ForAnyValue refused", doc(withCond(`{"ForAnyValue:StringEquals":{"acs:SourceIp":"1.2.3.4"}}`)), `Statement[0].Condition."ForAnyValue:StringEquals"`, "unknown condition operator"},
		{"operator block not object", doc(withCond(`{"Bool":"true"}`)), "Statement[0].Condition.Bool", "must be an object of condition keys"},
		{"operator block empty", doc(withCond(`{"Bool":{}}`)), "Statement[0].Condition.Bool", "at least one condition key"},
		{"key unknown", doc(withCond(`{"StringEquals":{"acs:ResourceTag/team":"dev"}}`)), `Statement[0].Condition.StringEquals."acs:ResourceTag/team"`, "unknown condition key"},
		{"Date operator on SourceIp", doc(withCond(`{"DateLessThan":{"acs:SourceIp":"2019-08-12T17:00:00Z"}}`)), `Statement[0].Condition.DateLessThan."acs:SourceIp"`, "cannot be used with acs:SourceIp"},
		{"IP operator on CurrentTime", doc(withCond(`{"IpAddress":{"acs:CurrentTime":"10.0.0.0/8"}}`)), `Statement[0].Condition.IpAddress."acs:CurrentTime"`, "cannot be used"},
		{"Bool operator on SourceIp", doc(withCond(`{"Bool":{"acs:SourceIp":"true"}}`)), `Statement[0].Condition.Bool."acs:SourceIp"`, "cannot be used"},
		{"Numeric operator on SecureTransport", doc(withCond(`{"NumericEquals":{"acs:SecureTransport":"1"}}`)), `Statement[0].Condition.NumericEquals."acs:SecureTransport"`, "cannot be used"},
		{"String operator on CurrentTime", doc(withCond(`{"StringLike":{"acs:CurrentTime":"2019*"}}`)), `Statement[0].Condition.StringLike."acs:CurrentTime"`, "cannot be used"},
		{"value list empty", doc(withCond(`{"IpAddress":{"acs:SourceIp":[]}}`)), `Statement[0].Condition.IpAddress."acs:SourceIp"`, "at least one value"},
		{"value null", doc(withCond(`{"StringEquals":{"acs:SourceIp":null}}`)), `Statement[0].Condition.StringEquals."acs:SourceIp"`, "not null"},
		{"value object in list", doc(withCond(`{"StringEquals":{"acs:SourceIp":["1.2.3.4",{}]}}`)), `Statement[0].Condition.StringEquals."acs:SourceIp"[1]`, "not an object"},
		{"IP invalid", doc(okStmt, withCond(`{"IpAddress":{"acs:SourceIp":"10.0.0.300"}}`)), `Statement[1].Condition.IpAddress."acs:SourceIp"`, `"10.0.0.300" is not an IP address or CIDR`},
		{"IP invalid in list", doc(withCond(`{"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","10.0.0.0/33"]}}`)), `Statement[0].Condition.NotIpAddress."acs:SourceIp"[1]`, "not an IP address or CIDR"},
		{"IP with zone", doc(withCond(`{"IpAddress":{"acs:SourceIp":"fe80::1%eth0"}}`)), `Statement[0].Condition.IpAddress."acs:SourceIp"`, "not an IP address"},
		{"date without time", doc(withCond(`{"DateLessThan":{"acs:CurrentTime":"2019-08-12"}}`)), `Statement[0].Condition.DateLessThan."acs:CurrentTime"`, "ISO 8601"},
		{"date as epoch", doc(withCond(`{"DateLessThan":{"acs:CurrentTime":1565600400}}`)), `Statement[0].Condition.DateLessThan."acs:CurrentTime"`, "ISO 8601"},
		{"numeric invalid", doc(withCond(`{"NumericLessThan":{"acs:CurrentTime":"soon"}}`)), `Statement[0].Condition.NumericLessThan."acs:CurrentTime"`, "not a number"},
		{"numeric hex", doc(withCond(`{"NumericLessThan":{"acs:CurrentTime":"0x10"}}`)), `Statement[0].Condition.NumericLessThan."acs:CurrentTime"`, "not a number"},
		{"numeric Inf", doc(withCond(`{"NumericLessThan":{"acs:CurrentTime":"1e999"}}`)), `Statement[0].Condition.NumericLessThan."acs:CurrentTime"`, "not a number"},
		{"same key twice in other case", doc(withCond(`{"Bool":{"acs:SecureTransport":"true","ACS:SecureTransport":"false"}}`)), `Statement[0].Condition.Bool."ACS:SecureTransport"`, "appears twice under this operator"},
		{"numeric NaN", doc(withCond(`{"NumericLessThan":{"acs:CurrentTime":"NaN"}}`)), `Statement[0].Condition.NumericLessThan."acs:CurrentTime"`, "not a number"},
		{"bool invalid", doc(withCond(`{"Bool":{"acs:SecureTransport":"yes"}}`)), `Statement[0].Condition.Bool."acs:SecureTransport"`, "not a boolean"},
		{"IfExists of unknown operator", doc(withCond(`{"FooIfExists":{"acs:SourceIp":"1.2.3.4"}}`)), "Statement[0].Condition.FooIfExists", "unknown condition operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.doc)
			if err == nil {
				t.Fatalf("Parse succeeded (%v); want error at %q", p, tt.wantPath)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			if pe.Path != tt.wantPath {
				t.Errorf("Path = %q, want %q (error: %v)", pe.Path, tt.wantPath, err)
			}
			if !strings.Contains(pe.Msg, tt.wantMsg) {
				t.Errorf("Msg = %q, want it to contain %q", pe.Msg, tt.wantMsg)
			}
		})
	}
}

func TestParseErrorString(t *testing.T) {
	_, err := Parse(doc(okStmt, withCond(`{"IpAddress":{"acs:SourceIp":"10.0.0.300"}}`)))
	want := `Statement[1].Condition.IpAddress."acs:SourceIp": "10.0.0.300" is not an IP address or CIDR`
	if err == nil || err.Error() != want {
		t.Errorf("Error() = %v, want %s", err, want)
	}
	if got := (&ParseError{Msg: "policy document is empty"}).Error(); got != "policy document is empty" {
		t.Errorf("pathless Error() = %q", got)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name         string
		doc          string
		allow, deny  int // statements by effect
		nConditions  int // in the first statement
		firstActions []string
	}{
		{"minimal", doc(okStmt), 1, 0, 0, []string{"yundun-cert:listcert"}},
		{"lists and Sid", doc(`{"Sid":"s1","Effect":"Deny","Action":["ram:*","yundun-cert:Delete*"],"Resource":["acs:yundun-cert:*:1:ca/*","*"]}`), 0, 1, 0, []string{"ram:*", "yundun-cert:delete*"}},
		{"element order free", `{"Statement":[{"Resource":"*","Action":"*","Effect":"Allow"}],"Version":"1"}`, 1, 0, 0, []string{"*"}},
		{"NotAction", doc(`{"Effect":"Allow","NotAction":"ram:*","Resource":"*"}`), 1, 0, 0, []string{"ram:*"}},
		{"RAM-style ARN with empty region", doc(`{"Effect":"Allow","Action":"ram:GetUser","Resource":"acs:ram::1000:user/alice"}`), 1, 0, 0, []string{"ram:getuser"}},
		{"relative-id with colons", doc(`{"Effect":"Allow","Action":"*","Resource":"acs:x:*:*:a:b:c"}`), 1, 0, 0, []string{"*"}},
		{"mixed effects", doc(okStmt, `{"Effect":"Deny","Action":"*","Resource":"*"}`, okStmt), 2, 1, 0, []string{"yundun-cert:listcert"}},
		{"every operator family", doc(withCond(`{
			"StringEquals":{"acs:SourceIp":"1.2.3.4"},
			"StringNotEqualsIgnoreCase":{"acs:SecureTransport":["FALSE"]},
			"StringNotLike":{"acs:SourceIp":"10.*"},
			"NumericGreaterThanEquals":{"acs:CurrentTime":1565600400},
			"DateLessThan":{"acs:CurrentTime":"2019-08-12T17:00:00+08:00"},
			"DateGreaterThanIfExists":{"acs:CurrentTime":"2019-08-12T09:00:00.5Z"},
			"Bool":{"acs:SecureTransport":true},
			"IpAddress":{"acs:SourceIp":["192.0.2.0/24","203.0.113.2","2001:db8::/32","::ffff:198.51.100.0/120"]},
			"NotIpAddressIfExists":{"acs:SourceIp":"10.0.0.0/8"}}`)), 1, 0, 9, []string{"*"}},
		{"condition key case-insensitive", doc(withCond(`{"Bool":{"ACS:securetransport":"TRUE"}}`)), 1, 0, 1, []string{"*"}},
		{"two keys under one operator", doc(withCond(`{"StringEquals":{"acs:SourceIp":"1.2.3.4","acs:SecureTransport":"true"}}`)), 1, 0, 2, []string{"*"}},
		{"exactly the size limit", doc(`{"Sid":"` + strings.Repeat("é", MaxDocumentChars-len(doc(`{"Sid":"","Effect":"Allow","Action":"*","Resource":"*"}`))) + `","Effect":"Allow","Action":"*","Resource":"*"}`), 1, 0, 0, []string{"*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.doc)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(p.allows) != tt.allow || len(p.denies) != tt.deny {
				t.Fatalf("allows/denies = %d/%d, want %d/%d", len(p.allows), len(p.denies), tt.allow, tt.deny)
			}
			first := append(append([]*statement{}, p.allows...), p.denies...)[0]
			if len(first.conditions) != tt.nConditions {
				t.Errorf("conditions = %d, want %d", len(first.conditions), tt.nConditions)
			}
			var acts []string
			for _, a := range first.actions {
				if a.all {
					acts = append(acts, "*")
				} else {
					acts = append(acts, a.svc+":"+a.name)
				}
			}
			if strings.Join(acts, ",") != strings.Join(tt.firstActions, ",") {
				t.Errorf("actions = %q, want %q", acts, tt.firstActions)
			}
		})
	}
}

func TestParseIPOrCIDR(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"10.0.0.1", "10.0.0.1/32", true},
		{"10.0.0.5/8", "10.0.0.0/8", true},
		{"2001:db8::1", "2001:db8::1/128", true},
		{"2001:db8::/32", "2001:db8::/32", true},
		{"::ffff:10.0.0.1", "10.0.0.1/32", true},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", true},
		{"10.0.0.300", "", false},
		{"10.0.0.0/33", "", false},
		{"fe80::1%eth0", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		p, ok := parseIPOrCIDR(tt.in)
		if ok != tt.ok || ok && p.String() != tt.want {
			t.Errorf("parseIPOrCIDR(%q) = %v, %v; want %s, %v", tt.in, p, ok, tt.want, tt.ok)
		}
	}
}

package openapi

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSuccessJSONRequestID: a result may not carry its own top-level
// RequestId; one nested deeper, or inside a string, is data and passes.
func TestSuccessJSONRequestID(t *testing.T) {
	type inner struct{ RequestId string }
	tests := []struct {
		name    string
		result  any
		wantErr bool
	}{
		{"no member", map[string]any{"Identifier": "x"}, false},
		{"top-level member", map[string]any{"RequestId": "mine", "Identifier": "x"}, true},
		{"top-level member last", struct{ A, RequestId string }{"a", "b"}, true},
		{"nested member", map[string]any{"List": []inner{{RequestId: "n"}}}, false},
		{"nested object", map[string]any{"Obj": inner{RequestId: "n"}}, false},
		{"inside a string", map[string]any{"Note": `{"RequestId":"x"}`}, false},
		{"as a value", map[string]any{"Name": "RequestId"}, false},
		{"nil result", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := successJSON("REQ-1", tc.result)
			if (err != nil) != tc.wantErr {
				t.Fatalf("successJSON: err %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			var top map[string]json.RawMessage
			if err := json.Unmarshal(out, &top); err != nil {
				t.Fatalf("answer %s is not a JSON object: %v", out, err)
			}
			if string(top["RequestId"]) != `"REQ-1"` || !strings.HasPrefix(string(out), `{"RequestId":"REQ-1"`) {
				t.Errorf("answer %s: want RequestId REQ-1 first", out)
			}
		})
	}
}

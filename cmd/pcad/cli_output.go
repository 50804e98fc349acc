package main

// Output of the client commands: a table (text/tabwriter) by default, or the
// JSON answer (-o json) or the same data as YAML (-o yaml). The YAML emitter
// is small and owns no types: it turns any JSON text into block-style YAML,
// keeping the order of object members.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// Output formats of -o.
const (
	outTable = "table"
	outJSON  = "json"
	outYAML  = "yaml"
)

// outputFormats are the values -o accepts, for help and completion.
var outputFormats = []string{outTable, outJSON, outYAML}

func checkOutput(format string) error {
	for _, f := range outputFormats {
		if format == f {
			return nil
		}
	}
	return fmt.Errorf("-o %q: want one of %s", format, strings.Join(outputFormats, ", "))
}

// printData writes js (one JSON value) as format json or yaml.
func printData(w io.Writer, format string, js []byte) error {
	switch format {
	case outYAML:
		return writeYAML(w, js)
	default:
		var b bytes.Buffer
		if err := json.Indent(&b, js, "", "  "); err != nil {
			return fmt.Errorf("format JSON: %w", err)
		}
		b.WriteByte('\n')
		_, err := w.Write(b.Bytes())
		return err
	}
}

// printValue marshals v and writes it as format json or yaml.
func printValue(w io.Writer, format string, v any) error {
	js, err := marshalJSON(v)
	if err != nil {
		return err
	}
	return printData(w, format, js)
}

// marshalJSON is json.Marshal without HTML escaping (PEM and URLs stay as
// they are).
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode JSON: %w", err)
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// newTable returns a tabwriter for aligned columns; Flush it when done.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// cell makes s safe for one table cell: tabs and line breaks become spaces,
// and an empty value shows as "-".
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// fmtTime formats an instant for tables: UTC, to the minute.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

// fmtMillis formats Unix milliseconds (the API's I64 dates) for tables.
func fmtMillis(ms int64) string {
	if ms == 0 {
		return "-"
	}
	return fmtTime(time.UnixMilli(ms))
}

// ---- YAML -------------------------------------------------------------------

// yamlObject is a JSON object with its member order.
type yamlObject struct {
	keys []string
	vals []any
}

// writeYAML writes the JSON value js as block-style YAML. Strings that
// could read as anything else (numbers, booleans, dates, null, text with
// YAML indicators) are double-quoted with JSON escapes, which YAML reads
// the same; multi-line text such as PEM is a literal block.
func writeYAML(w io.Writer, js []byte) error {
	v, err := decodeForYAML(js)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	switch v := v.(type) {
	case *yamlObject:
		if len(v.keys) == 0 {
			b.WriteString("{}\n")
		}
		yamlMembers(&b, v, 0)
	case []any:
		if len(v) == 0 {
			b.WriteString("[]\n")
		}
		yamlItems(&b, v, 0)
	default:
		b.WriteString(yamlScalar(v, 0))
		b.WriteByte('\n')
	}
	_, err = w.Write(b.Bytes())
	return err
}

// writeYAMLItem writes the JSON value js as one item ("- ...") of a block
// sequence whose dashes stand at column indent; the caller has written the
// indentation of the first line.
func writeYAMLItem(w io.Writer, js []byte, indent int) error {
	v, err := decodeForYAML(js)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	yamlItems(&b, []any{v}, indent)
	_, err = w.Write(b.Bytes())
	return err
}

// decodeForYAML decodes the JSON value js keeping member order and numbers as
// written, for the YAML writers.
func decodeForYAML(js []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return nil, fmt.Errorf("yaml: %w", err)
	}
	return v, nil
}

func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &yamlObject{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				o.keys = append(o.keys, k.(string))
				o.vals = append(o.vals, v)
			}
			_, err := dec.Token() // '}'
			return o, err
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ']'
			return a, err
		}
		return nil, errors.New("unexpected delimiter")
	default:
		return t, nil
	}
}

func yamlMembers(b *bytes.Buffer, o *yamlObject, indent int) {
	for i, k := range o.keys {
		if i > 0 {
			b.WriteString(strings.Repeat(" ", indent))
		}
		b.WriteString(yamlString(k, indent, true))
		b.WriteByte(':')
		yamlValue(b, o.vals[i], indent)
	}
}

func yamlItems(b *bytes.Buffer, a []any, indent int) {
	for i, v := range a {
		if i > 0 {
			b.WriteString(strings.Repeat(" ", indent))
		}
		b.WriteString("- ")
		switch v := v.(type) {
		case *yamlObject:
			if len(v.keys) == 0 {
				b.WriteString("{}\n")
				continue
			}
			yamlMembers(b, v, indent+2)
		case []any:
			if len(v) == 0 {
				b.WriteString("[]\n")
				continue
			}
			yamlItems(b, v, indent+2)
		default:
			b.WriteString(yamlScalar(v, indent+2))
			b.WriteByte('\n')
		}
	}
}

// yamlValue writes what follows "key:" for a member at indent.
func yamlValue(b *bytes.Buffer, v any, indent int) {
	pad := strings.Repeat(" ", indent+2)
	switch v := v.(type) {
	case *yamlObject:
		if len(v.keys) == 0 {
			b.WriteString(" {}\n")
			return
		}
		b.WriteString("\n" + pad)
		yamlMembers(b, v, indent+2)
	case []any:
		if len(v) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteString("\n" + pad)
		yamlItems(b, v, indent+2)
	default:
		b.WriteByte(' ')
		b.WriteString(yamlScalar(v, indent+2))
		b.WriteByte('\n')
	}
}

func yamlScalar(v any, indent int) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return v.String()
	case string:
		return yamlString(v, indent, false)
	}
	return fmt.Sprint(v)
}

// yamlKeywords read as something other than a string in YAML 1.1 or 1.2.
var yamlKeywords = map[string]bool{
	"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true, "y": true, "n": true,
	"null": true, "~": true, ".inf": true, ".nan": true,
}

// yamlString renders s plain when it cannot read as anything but this
// string, as a literal block when it is multi-line text (not for keys),
// else double-quoted.
func yamlString(s string, indent int, key bool) string {
	if plainYAML(s) {
		return s
	}
	if !key && literalYAML(s) {
		pad := strings.Repeat(" ", indent)
		head := "|-"
		body := s
		if strings.HasSuffix(s, "\n") {
			head, body = "|", strings.TrimSuffix(s, "\n")
		}
		return head + "\n" + pad + strings.ReplaceAll(body, "\n", "\n"+pad)
	}
	js, _ := marshalJSON(s)
	return string(js)
}

func plainYAML(s string) bool {
	if s == "" || yamlKeywords[strings.ToLower(s)] || s[len(s)-1] == ' ' {
		return false
	}
	first := rune(s[0])
	if !unicode.IsLetter(first) && first != '/' {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" _./@+=,()-", r)) {
			return false
		}
	}
	return true
}

// literalYAML reports whether s can be a literal block scalar that reads
// back exactly: several lines, printable, the first not starting with a
// space, and at most one line break at the end.
func literalYAML(s string) bool {
	if !strings.Contains(strings.TrimSuffix(s, "\n"), "\n") || strings.HasSuffix(s, "\n\n") || strings.HasPrefix(s, " ") {
		return false
	}
	for _, r := range s {
		if r != '\n' && !unicode.IsPrint(r) {
			return false
		}
	}
	for line := range strings.SplitSeq(strings.TrimSuffix(s, "\n"), "\n") {
		if line == "" || strings.HasSuffix(line, " ") {
			return false
		}
	}
	return true
}

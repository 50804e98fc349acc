package sqlstore

import "testing"

func TestRebindDollar(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE x = ? AND y IN (?, ?)", "SELECT a FROM t WHERE x = $1 AND y IN ($2, $3)"},
		{`SELECT '?' , "a?b", ? FROM t WHERE c LIKE ? ESCAPE '\'`, `SELECT '?' , "a?b", $1 FROM t WHERE c LIKE $2 ESCAPE '\'`},
		{"SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"},
		{"SELECT ? -- what?\n, ?", "SELECT $1 -- what?\n, $2"},
		{"SELECT ? -- trailing?", "SELECT $1 -- trailing?"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
	}
	for _, tc := range tests {
		if got := rebindDollar(tc.in); got != tc.want {
			t.Errorf("rebindDollar(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	e := &engine{dialect: dialectPostgres}
	if got := e.q("x = ?"); got != "x = $1" || e.q("x = ?") != got || e.rb.n.Load() != 1 {
		t.Errorf("cached rebind = %q (cache size %d)", got, e.rb.n.Load())
	}
	if got := (&engine{dialect: dialectSQLite}).q("x = ?"); got != "x = ?" {
		t.Errorf("SQLite rebind = %q, want the query unchanged", got)
	}
}

package main

// pcad admin migrate-store: move a SQLite deployment into PostgreSQL.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/store/sqlstore"
)

// confirmInput is where migrate-store reads its confirmation from, when it
// is a terminal and --yes is not given.
var confirmInput = os.Stdin

// adminMigrateStore copies the SQLite store under --from into the empty
// PostgreSQL database --to names, then verifies, in order: every table of
// the target against the source snapshot that was copied (row counts and
// contents), the audit chain on the target (with the master key, as `pcad
// admin audit verify` does), and that the source did not change while it
// was copied. Any failure is an error; the target then holds the copy but
// must not be served: empty it and run again.
func adminMigrateStore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin migrate-store", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "data directory of the SQLite deployment: pcad.db and master.key (required)")
	to := fs.String("to", "", "postgres:// URL of the empty PostgreSQL database to copy into (required)")
	yes := fs.Bool("yes", false, "copy without asking for confirmation")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("admin migrate-store: unexpected arguments %q", fs.Args())
	}
	if *from == "" || *to == "" {
		return errors.New("admin migrate-store: --from DIR and --to postgres://... are both required")
	}
	if err := checkDB(*to); err != nil { // its error speaks of --db
		return errors.New("admin migrate-store: --to must be a postgres:// or postgresql:// URL")
	}
	target := displayDSN(*to)

	// The source, with its master key; its audit chain must verify, or the
	// copy would carry the fault and fail its check on the target.
	src, err := openAdmin(ctx, *from, "", false, stderr)
	if err != nil {
		return err
	}
	defer src.store.Close()
	if err := auditVerify(ctx, src, io.Discard); err != nil {
		return fmt.Errorf("admin migrate-store: the source's %w; the copy would carry the fault (see pcad admin audit verify --data %s)", err, *from)
	}
	if !*yes {
		if err := confirmMigration(stderr, *from, target); err != nil {
			return err
		}
	}

	// The target: migrated, but no service on it yet (a service would
	// create server secrets that the copy brings).
	dst, err := sqlstore.OpenPostgres(ctx, *to)
	if err != nil {
		return fmt.Errorf("admin migrate-store: %w", redactDSN(err, *to))
	}
	defer dst.Close()

	start := time.Now()
	bar := newProgressBar(stderr, "copy")
	rep, err := sqlstore.Copy(ctx, dst, src.store, bar.update)
	bar.finish()
	if err != nil {
		return fmt.Errorf("admin migrate-store: %w", redactDSN(err, *to))
	}
	copied := time.Since(start)

	start = time.Now()
	bar = newProgressBar(stderr, "verify")
	err = rep.Verify(ctx, dst, bar.update)
	bar.finish()
	if err != nil {
		return fmt.Errorf("admin migrate-store: the copy in PostgreSQL does not match the source: %w; do not serve it", redactDSN(err, *to))
	}
	tgt, err := openAdmin(ctx, *from, *to, false, stderr)
	if err != nil {
		return fmt.Errorf("admin migrate-store: the copy is complete, but opening it with the master key failed: %w", err)
	}
	defer tgt.store.Close()
	var audit strings.Builder
	if err := auditVerify(ctx, tgt, &audit); err != nil {
		return fmt.Errorf("admin migrate-store: on the copy, the %w", err)
	}
	bar = newProgressBar(stderr, "recheck source")
	err = rep.Verify(ctx, src.store, bar.update)
	bar.finish()
	var me *sqlstore.MismatchError
	if errors.As(err, &me) {
		return fmt.Errorf("admin migrate-store: the source changed after the copy began (%v): is a server still running on %s? "+
			"Its changes are not in PostgreSQL: stop it, empty the target database and run migrate-store again", me, *from)
	}
	if err != nil {
		return fmt.Errorf("admin migrate-store: recheck the source: %w", err)
	}
	verified := time.Since(start)

	printMigrationSummary(stdout, rep, *from, target, copied, verified, audit.String())
	return nil
}

// confirmMigration asks on the terminal before copying; without a
// terminal it asks for --yes.
func confirmMigration(stderr io.Writer, from, target string) error {
	if !isTerminal(confirmInput) {
		return errors.New("admin migrate-store: no terminal to confirm on: pass --yes")
	}
	fmt.Fprintf(stderr, "Copy the pcad store under %s into %s?\n"+
		"Stop the server on %s first: the copy is the store as it is when the copy begins.\n"+
		"Type yes to copy: ", from, target, from)
	line, _ := bufio.NewReader(confirmInput).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "yes" && a != "y" {
		return errors.New("admin migrate-store: not confirmed; nothing was copied")
	}
	return nil
}

func printMigrationSummary(w io.Writer, rep *sqlstore.CopyReport, from, target string, copied, verified time.Duration, audit string) {
	var total int64
	for _, t := range rep.Tables {
		total += t.Rows
	}
	rate := float64(total) / max(copied.Seconds(), 1e-3)
	fmt.Fprintf(w, "Copied the pcad store under %s into %s: %d rows in %s (%.0f rows/s); verified in %s.\n",
		from, target, total, copied.Round(time.Millisecond), rate, verified.Round(time.Millisecond))
	name, rows := len("TABLE"), max(len("ROWS"), len(fmt.Sprint(total)))
	for _, t := range rep.Tables {
		name = max(name, len(t.Name))
	}
	fmt.Fprintf(w, "  %-*s  %*s\n", name, "TABLE", rows, "ROWS")
	for _, t := range rep.Tables {
		fmt.Fprintf(w, "  %-*s  %*d\n", name, t.Name, rows, t.Rows)
	}
	fmt.Fprintf(w, "  %-*s  %*d\n", name, "total", rows, total)
	fmt.Fprintln(w, "Every table matches the source (row counts and contents).")
	fmt.Fprint(w, "On the copy, "+audit)
	keyFile := filepath.Join(from, "master.key")
	fmt.Fprintln(w, "\nNext: keep the server on", from, "stopped, and start every replica on PostgreSQL with the same master key:")
	if os.Getenv("PCAD_MASTER_KEY") != "" {
		fmt.Fprintln(w, "  the PCAD_MASTER_KEY this command was given (64 hex digits)")
	} else {
		fmt.Fprintf(w, "  export PCAD_MASTER_KEY=\"$(cat %s)\"    # the 64 hex digits of %s\n", keyFile, keyFile)
	}
	fmt.Fprintf(w, "  pcad serve --db '%s'\n", target)
	fmt.Fprintln(w, "AccessKeys and credentials files keep working; keep", keyFile, "safe: it opens every sealed key of the copy.")
}

// displayDSN is dsn as it may be shown: the password of the URL, or of a
// password parameter, replaced by xxxxx.
func displayDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		scheme, _, _ := strings.Cut(dsn, "://")
		return scheme + "://..."
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// redactDSN returns err with any password of dsn in its text replaced. It
// still unwraps to err.
func redactDSN(err error, dsn string) error {
	if err == nil || dsn == "" {
		return err
	}
	var secrets []string
	if u, perr := url.Parse(dsn); perr == nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
		}
		if pw := u.Query().Get("password"); pw != "" {
			secrets = append(secrets, pw, url.QueryEscape(pw))
		}
	}
	msg := err.Error()
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar shows sqlstore.Progress on w: on a terminal, one line
// rewritten in place (table, percent, rows/s); elsewhere, plain lines, at
// most one a second, so that logs and pipes stay readable.
type progressBar struct {
	w      io.Writer
	phase  string
	tty    bool
	every  time.Duration    // minimum time between two outputs
	now    func() time.Time // tests replace it
	last   time.Time        // of the last output
	table  string
	start  time.Time // when the current table began
	width  int       // of the line on screen (tty)
	drawn  bool
	latest sqlstore.Progress
}

func newProgressBar(w io.Writer, phase string) *progressBar {
	f, _ := w.(*os.File)
	p := &progressBar{w: w, phase: phase, tty: isTerminal(f), every: time.Second, now: time.Now}
	if p.tty {
		p.every = 100 * time.Millisecond
	}
	return p
}

// update takes one progress report; it writes only when the time since the
// last output allows.
func (p *progressBar) update(pr sqlstore.Progress) {
	now := p.now()
	if pr.Table != p.table {
		p.table, p.start = pr.Table, now
	}
	p.latest = pr
	if p.drawn && now.Sub(p.last) < p.every {
		return
	}
	p.last, p.drawn = now, true
	p.write(p.line(pr, now))
}

func (p *progressBar) line(pr sqlstore.Progress, now time.Time) string {
	pct := 100
	if pr.Total > 0 {
		pct = int(pr.Done * 100 / pr.Total)
	}
	if pr.Table == sqlstore.IndexProgress {
		return fmt.Sprintf("%s: building indexes %3d%% (%d/%d)", p.phase, pct, pr.Done, pr.Total)
	}
	s := fmt.Sprintf("%s: %s %3d%% (%d/%d rows)", p.phase, pr.Table, pct, pr.Done, pr.Total)
	if el := now.Sub(p.start); el >= 100*time.Millisecond && pr.Done > 0 {
		s += fmt.Sprintf(", %.0f rows/s", float64(pr.Done)/el.Seconds())
	}
	return s
}

func (p *progressBar) write(s string) {
	if !p.tty {
		fmt.Fprintln(p.w, s)
		return
	}
	pad := ""
	if n := p.width - len(s); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len(s)
	fmt.Fprint(p.w, "\r"+s+pad)
}

// finish ends the terminal line (showing the last state).
func (p *progressBar) finish() {
	if p.tty && p.drawn {
		p.write(p.line(p.latest, p.now()))
		fmt.Fprintln(p.w)
	}
}

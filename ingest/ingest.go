// Package ingest loads NDJSON audit and job records into the store: one
// object a line, every field checked against the record contract, the whole
// input in one transaction so that a bad line stores nothing.
//
// Reading, parsing and checking run on one goroutine and the inserts on
// another, so the two cores of a small machine share the work; the input
// is streamed in bounded batches and never held whole.
package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/siemsync/siemsync"
	"github.com/siemsync/siemsync/store"
)

// MaxLineBytes is the longest line accepted. It bounds the memory one
// record can take; a legitimate record is far smaller.
const MaxLineBytes = 1 << 20

// batchSize is how many parsed records travel from the parser to the
// inserter at a time. A store pays a round trip per batch (PostgreSQL
// checks and stores a batch's ids in one COPY before it can tell how many
// it stored), and PostgreSQL copies records 4,096 at a time: at that
// size PostgreSQL takes a fifth less CPU per record than at 256 (fewer
// statements and savepoints) and siemsync a third less (fewer waits for
// the round trips). Three batches in flight hold about 10 MB of records
// of 800 bytes.
const batchSize = 4096

// batchBytes also ends a batch: lines may be up to MaxLineBytes long, and
// 4,096 of those would be 4 GiB. With it three batches in flight hold at
// most about 12 MiB, one line more each, whatever the input.
const batchBytes = 4 << 20

// Options configures an ingest.
type Options struct {
	// Account, when set (the account in a REST API path), is given to
	// records without an account; a record of another account is an error.
	Account string
}

// Audit stores the audit records of r. It returns the first problem as a
// *siemsync.FieldError naming the line (from 1) and the field; then nothing
// of r is stored. Records whose id the account already has are counted as
// duplicates; a record without id gets one derived from its content.
func Audit(ctx context.Context, db store.Ingester, r io.Reader, opts Options) (store.IngestResult, error) {
	p, err := parserFor(opts)
	if err != nil {
		return store.IngestResult{}, err
	}
	return load(ctx, db, r, p.audit, func(in store.IngestTx, recs []siemsync.Audit, _ []int) (int, error) {
		return in.AuditBatch(recs)
	})
}

// Jobs stores the job records of r, each an upsert keyed by its job id. It
// fails like Audit. Upserts identical to the stored job are counted as
// duplicates.
func Jobs(ctx context.Context, db store.Ingester, r io.Reader, opts Options) (store.IngestResult, error) {
	p, err := parserFor(opts)
	if err != nil {
		return store.IngestResult{}, err
	}
	return load(ctx, db, r, p.job, func(in store.IngestTx, jobs []siemsync.Job, lines []int) (int, error) {
		n := 0
		for i := range jobs {
			changed, err := in.Job(&jobs[i])
			if err != nil {
				return n, atLine(lines[i], err)
			}
			if changed {
				n++
			}
		}
		return n, nil
	})
}

func parserFor(opts Options) (*parser, error) {
	acct := []byte(opts.Account)
	if len(acct) > 0 && !validUUID(acct) {
		return nil, fieldErr("account", "must be a UUID such as %s, not %s", exampleUUID, quote(acct))
	}
	return newParser(string(bytes.ToLower(acct))), nil
}

// atLine puts line n on a store's input error (one that depends on what is
// stored, such as a job of another account).
func atLine(n int, err error) error {
	var fe *siemsync.FieldError
	if errors.As(err, &fe) {
		fe.Line = n
	}
	return err
}

// batch is a slice of parsed records and the lines they came from.
type batch[T any] struct {
	recs        []T
	lines       []int // line number of each record
	first, last int
	bytes       int // of the lines of recs
}

// load runs the parser and the inserter as a two-stage pipeline in one
// ingest transaction.
func load[T any](ctx context.Context, db store.Ingester, r io.Reader,
	parse func(line []byte, dst *T) error,
	insert func(in store.IngestTx, recs []T, lines []int) (int, error),
) (store.IngestResult, error) {
	var res store.IngestResult
	in, err := db.BeginIngest(ctx)
	if err != nil {
		return res, err
	}
	defer in.Rollback()

	full := make(chan *batch[T], 2)
	free := make(chan *batch[T], 3)
	for range cap(free) {
		free <- &batch[T]{recs: make([]T, 0, batchSize), lines: make([]int, 0, batchSize)}
	}
	stop := make(chan struct{}) // closed when the inserter gives up
	var parseErr error          // written before full is closed
	go func() {
		defer close(full)
		parseErr = produce(ctx, r, parse, full, free, stop, &res.Lines)
	}()

	var insertErr error
	for b := range full {
		if insertErr == nil {
			if insertErr = ctx.Err(); insertErr == nil {
				var n int
				n, insertErr = insert(in, b.recs, b.lines)
				res.Stored += n
				var fe *siemsync.FieldError
				if insertErr != nil && !errors.As(insertErr, &fe) {
					insertErr = fmt.Errorf("store records of lines %d to %d: %w", b.first, b.last, insertErr)
				}
			}
			if insertErr != nil {
				close(stop)
			}
		}
		b.recs, b.lines, b.bytes = b.recs[:0], b.lines[:0], 0
		free <- b
	}
	if err := errors.Join(parseErr, insertErr); err != nil {
		return store.IngestResult{}, firstErr(parseErr, insertErr)
	}
	if err := in.Commit(); err != nil {
		return store.IngestResult{}, err
	}
	res.Duplicates = res.Lines - res.Stored
	return res, nil
}

// firstErr prefers the parse error: it explains the stop, while the
// inserter's error may only be the cancellation it caused.
func firstErr(parseErr, insertErr error) error {
	if parseErr != nil && !errors.Is(parseErr, errStopped) {
		return parseErr
	}
	return insertErr
}

var errStopped = errors.New("stopped")

// produce reads, parses and checks lines, sending full batches.
func produce[T any](ctx context.Context, r io.Reader, parse func([]byte, *T) error,
	full chan<- *batch[T], free <-chan *batch[T], stop <-chan struct{}, lines *int,
) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), MaxLineBytes)
	var (
		b    *batch[T]
		n    int // line number
		recs int
	)
	send := func() error {
		if b == nil || len(b.recs) == 0 {
			return nil
		}
		select {
		case full <- b:
			b = nil
			return nil
		case <-stop:
			return errStopped
		}
	}
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if b == nil {
			select {
			case b = <-free:
			case <-stop:
				return errStopped
			}
			b.first = n
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b.recs = b.recs[:len(b.recs)+1]
		if err := parse(line, &b.recs[len(b.recs)-1]); err != nil {
			return lineError(n, line, err)
		}
		b.last = n
		b.lines = append(b.lines, n)
		b.bytes += len(line)
		recs++
		*lines = recs
		if len(b.recs) == cap(b.recs) || b.bytes >= batchBytes {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &siemsync.FieldError{Line: n + 1, Msg: fmt.Sprintf("is longer than %d MiB: split the record or shorten its metadata", MaxLineBytes>>20)}
		}
		return fmt.Errorf("read line %d: %w", n+1, err)
	}
	return send()
}

// lineError puts the line number on a parse error and words JSON syntax
// errors for the person who wrote the file.
func lineError(n int, line []byte, err error) error {
	var fe *siemsync.FieldError
	var se *syntaxError
	switch {
	case errors.As(err, &fe):
		fe.Line = n
		return fe
	case errors.Is(err, errNotUTF8):
		return &siemsync.FieldError{Line: n, Msg: "is not valid UTF-8: save the file as UTF-8"}
	case errors.Is(err, errNotObject):
		return &siemsync.FieldError{Line: n, Msg: "must be a JSON object: one record per line, like {\"time\":\"2026-11-21T15:04:05Z\",...}"}
	case errors.As(err, &se):
		col := utf8.RuneCount(line[:min(se.off, len(line))]) + 1
		return &siemsync.FieldError{Line: n, Msg: fmt.Sprintf("malformed JSON at column %d: %s", col, se.msg)}
	}
	return &siemsync.FieldError{Line: n, Msg: err.Error()}
}

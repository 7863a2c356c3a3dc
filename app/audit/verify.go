package audit

import (
	"context"
	"crypto/x509"
	"fmt"
	"sort"
	"time"

	"github.com/storykeep/storykeep/models"
)

// Kinds of Problem.
const (
	ProblemMissing   = "missing"  // chain positions with no entry (removed)
	ProblemLink      = "link"     // an entry's previous hash is not the entry before it
	ProblemEdited    = "edited"   // an entry's content or position does not match its hash
	ProblemOrder     = "order"    // two entries at one position
	ProblemAnchor    = "anchor"   // the chain disagrees with an anchor, or an anchor is bad
	ProblemTail      = "tail"     // an anchor vouches for entries past the chain's end
	ProblemUnlinked  = "unlinked" // entries waiting longer than they should to be linked
	maxProblems      = 100
	defaultTSASkew   = 10 * time.Minute
	verifyBatchLimit = 1000
)

// Problem is one place the log does not hold.
type Problem struct {
	Seq    int64 // chain position concerned (0: none)
	Kind   string
	Reason string
}

// Break describes the first place the chain does not hold.
type Break struct {
	Seq    int64
	Reason string
}

// Report is the outcome of Verify.
type Report struct {
	Checked  int64  // linked entries verified
	Head     string // hash of the last linked entry
	HeadSeq  int64
	Broken   *Break // the first problem, if any
	Problems []Problem
	// Unlinked entries are not part of the chain yet; OldestUnlinked is
	// the recorded time of the oldest of them.
	Unlinked       int64
	OldestUnlinked time.Time
	// Anchors is how many anchors the chain was compared with; LastAnchor
	// the latest of them (by chain position).
	Anchors    int
	LastAnchor *Anchor
}

// VerifyOptions says what to compare the chain with.
type VerifyOptions struct {
	// Anchors are the chain heads written outside the database
	// (ReadAnchors), with AnchorProblems found reading them.
	Anchors        []Anchor
	AnchorProblems []Problem
	// Cert is the seal certificate anchors must be signed with; nil: not checked.
	Cert *x509.Certificate
	// MaxUnlinkedAge: an unlinked entry older than this is a problem (the
	// chainer is not running, or the entry was slipped in); 0 only reports.
	MaxUnlinkedAge time.Duration
	// TSASkew is how far an anchor's timestamp may be from its time (default 10 minutes).
	TSASkew time.Duration
	Now     time.Time
}

// Verify recomputes the whole chain in order and reports every place it
// does not hold, without anchors.
func (l *Log) Verify(ctx context.Context) (Report, error) { return l.VerifyWith(ctx, VerifyOptions{}) }

// VerifyWith recomputes the whole linked chain in order of position,
// compares it with every anchor, and reports entries waiting to be linked.
//
// What each finding means:
//   - missing positions: entries were deleted;
//   - a previous-hash link that does not match: an entry was removed,
//     inserted or moved between the two;
//   - an entry that does not match its hash: it was edited (content or
//     position) after it was linked;
//   - an anchor whose hash differs from the entry at its position: the
//     chain up to there was rewritten and recomputed after the anchor;
//   - an anchor past the chain's end: the last entries were deleted.
func (l *Log) VerifyWith(ctx context.Context, opt VerifyOptions) (Report, error) {
	var rep Report
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.TSASkew == 0 {
		opt.TSASkew = defaultTSASkew
	}
	add := func(p Problem) {
		if rep.Broken == nil {
			rep.Broken = &Break{Seq: p.Seq, Reason: p.Reason}
		}
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, p)
		}
	}
	bySeq := map[int64][]Anchor{}
	for _, a := range opt.Anchors {
		bySeq[a.Seq] = append(bySeq[a.Seq], a)
	}
	prev := ""
	next := int64(1)
	for {
		var batch []models.AuditEntry
		if err := l.db.WithContext(ctx).Where("seq >= ?", next).Order("seq").Order("id").Limit(verifyBatchLimit).Find(&batch).Error; err != nil {
			return rep, err
		}
		for _, e := range batch {
			seq := *e.Seq
			switch {
			case seq < next:
				add(Problem{seq, ProblemOrder, fmt.Sprintf("a second entry (id %d) stands at position %d (inserted or moved)", e.ID, seq)})
				continue
			case seq > next:
				add(Problem{next, ProblemMissing, fmt.Sprintf("entries %d to %d are missing (removed), next found is %d", next, seq-1, seq)})
			case deref(e.PrevHash) != prev:
				add(Problem{seq, ProblemLink, "previous-hash link does not match the entry before it (an entry was removed, inserted or moved)"})
			}
			if Hash(e) != deref(e.Hash) {
				add(Problem{seq, ProblemEdited, "entry content does not match its hash (edited or moved after it was written)"})
			}
			for _, a := range bySeq[seq] {
				if a.Hash != deref(e.Hash) {
					add(Problem{seq, ProblemAnchor, fmt.Sprintf("anchor written %s (%s) says the chain's hash at entry %d is %.12s…, the chain has %.12s…: entries up to %d were rewritten after it",
						a.At.UTC().Format(time.RFC3339), a.Location, seq, a.Hash, deref(e.Hash), seq)})
				}
			}
			prev, next = deref(e.Hash), seq+1
			rep.Checked++
		}
		if len(batch) < verifyBatchLimit {
			break
		}
	}
	rep.Head, rep.HeadSeq = prev, next-1
	// Anchors: their own proofs, then whether the chain reaches them.
	rep.Anchors = len(opt.Anchors)
	for _, p := range opt.AnchorProblems {
		add(p)
	}
	for i, a := range opt.Anchors {
		if i == len(opt.Anchors)-1 {
			last := a
			rep.LastAnchor = &last
		}
		for _, bad := range CheckAnchor(a, opt.Cert, opt.TSASkew) {
			add(Problem{a.Seq, ProblemAnchor, fmt.Sprintf("anchor %s %s", a.Location, bad)})
		}
		if a.Seq > rep.HeadSeq {
			add(Problem{a.Seq, ProblemTail, fmt.Sprintf("the chain ends at entry %d, but the anchor written %s (%s) vouches for %d entries: entries %d to %d were removed",
				rep.HeadSeq, a.At.UTC().Format(time.RFC3339), a.Location, a.Seq, rep.HeadSeq+1, a.Seq)})
		}
	}
	// In order of writing, anchors never go back: a later anchor at an
	// earlier position means the chain was cut and grew again in between.
	byTime := append([]Anchor(nil), opt.Anchors...)
	sort.SliceStable(byTime, func(i, j int) bool { return byTime[i].At.Before(byTime[j].At) })
	for i := 1; i < len(byTime); i++ {
		if a, b := byTime[i-1], byTime[i]; b.Seq < a.Seq {
			add(Problem{b.Seq, ProblemAnchor, fmt.Sprintf("anchor %s, written after the one at entry %d, is at entry %d: the chain was shortened in between", b.Location, a.Seq, b.Seq)})
		}
	}
	n, oldest, err := l.Unlinked(ctx)
	if err != nil {
		return rep, err
	}
	rep.Unlinked, rep.OldestUnlinked = n, oldest
	if n > 0 && opt.MaxUnlinkedAge > 0 && opt.Now.Sub(oldest) > opt.MaxUnlinkedAge {
		add(Problem{0, ProblemUnlinked, fmt.Sprintf("%d entries are not linked, the oldest recorded %s ago (%s): is the chainer running?",
			n, opt.Now.Sub(oldest).Round(time.Second), oldest.UTC().Format(time.RFC3339))})
	}
	return rep, nil
}

package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/usher-idp/usher/internal/outage"
	"github.com/usher-idp/usher/storage"
	"github.com/usher-idp/usher/storage/seal"
)

// Defaults of a Worker.
const (
	DefaultBatch        = 10
	DefaultPollInterval = 5 * time.Second
	DefaultRetryFor     = 24 * time.Hour
	DefaultTimeout      = 10 * time.Second
)

// Backoff between attempts of an email that fails temporarily: the first
// retry after about backoffBase, doubling up to backoffCap, each delay drawn
// in its upper half (jitter, so that emails queued together spread out).
const (
	backoffBase = 30 * time.Second
	backoffCap  = 15 * time.Minute
)

// After this process queued an email, the worker polls quickly for a while:
// the wake-up comes before the queueing transaction commits.
const (
	wakeWindow = 2 * time.Second
	fastPoll   = 100 * time.Millisecond
)

// InstitutionReader reads an institution, for the Reply-To of its emails.
type InstitutionReader interface {
	GetInstitution(ctx context.Context, id string) (*storage.Institution, error)
}

// WorkerConfig is what a Worker is built from.
type WorkerConfig struct {
	Queue storage.OutboxQueue
	// Sealer opens what the emails say: seal.New(master, SealPurpose), the
	// outbox's.
	Sealer *seal.Sealer
	// Institutions gives the Reply-To of each institution's emails; nil
	// sends none.
	Institutions InstitutionReader
	Sender       Sender
	// Host names the Message-IDs: the host of the public URL.
	Host string
	// RetryFor is how long after it was queued an email that fails
	// temporarily is still tried; then it is marked failed. 0 gives up at
	// the first failure.
	RetryFor time.Duration
	// Timeout is the sender's timeout.
	Timeout time.Duration
	// Lease is how long a claim on an email lasts unless the worker renews
	// it (every third of it, while it sends); 0 means DefaultLease. It is
	// how long other replicas wait for the emails of a worker that died.
	Lease        time.Duration
	Batch        int           // emails claimed at once; 0 means DefaultBatch
	PollInterval time.Duration // 0 means DefaultPollInterval
	// Wake, when it receives, makes the worker look for due emails at once
	// (Outbox.Wake).
	Wake    <-chan struct{}
	Now     func() time.Time // nil means time.Now
	Metrics Metrics          // nil counts nothing
	Log     *slog.Logger     // nil logs nothing
	// Jitter returns a number in [0, 1) to spread retries; nil means
	// math/rand.
	Jitter func() float64
}

// Worker delivers the outbox: run one per replica. Claims are leased, so
// workers of several replicas never send the same email; the leases are
// short and renewed while the worker sends (heartbeat.go), so the emails of
// a worker that dies are taken over seconds later. At most the message in
// flight when it died is delivered twice, with the same Message-ID.
type Worker struct {
	cfg  WorkerConfig
	smtp *outage.Log // the SMTP server unreachable: logged once, not per email
}

// NewWorker checks cfg and returns a worker with its zero fields defaulted.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Queue == nil || cfg.Sealer == nil || cfg.Sender == nil {
		return nil, errors.New("mail: the worker needs a queue, a sealer and a sender")
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RetryFor < 0 {
		cfg.RetryFor = 0
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Metrics == nil {
		cfg.Metrics = noMetrics{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Jitter == nil {
		cfg.Jitter = rand.Float64
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	return &Worker{cfg: cfg, smtp: outage.New(cfg.Log, "smtp", 0, nil)}, nil
}

// Run delivers due emails until ctx ends. A batch in progress stops at the
// next message: the message being sent finishes, the rest is released for
// another replica. A batch that was full is followed at once by the next;
// otherwise the worker waits for a wake-up or the poll interval.
func (w *Worker) Run(ctx context.Context) {
	var lastWake time.Time
	for {
		res, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, storage.ErrUnavailable) { // an outage is logged by the store, once
			w.cfg.Log.Error("outbox: claiming emails failed", "error", err)
		}
		if err == nil && res.Claimed == w.cfg.Batch && !res.Unreachable {
			continue
		}
		wait := w.cfg.PollInterval
		if res.Claimed == 0 && time.Since(lastWake) < wakeWindow {
			wait = fastPoll
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.cfg.Wake:
			lastWake = time.Now()
		case <-t.C:
		}
		t.Stop()
	}
}

// BatchResult is what one batch did.
type BatchResult struct {
	Claimed     int
	Sent        int
	Retried     int  // temporary failures, to be tried again
	Failed      int  // permanent failures, or retried for too long
	Released    int  // given back unsent (the worker is stopping)
	Lost        int  // left unsent: the claim was taken over, or could not be renewed in time
	Unreachable bool // the server could not be reached
}

// RunOnce claims one batch of due emails and sends them over one session.
// The error is that of the claim; delivery failures are recorded in the
// emails.
func (w *Worker) RunOnce(ctx context.Context) (BatchResult, error) {
	var res BatchResult
	batch, err := w.cfg.Queue.ClaimEmails(ctx, w.cfg.Batch, w.cfg.Lease)
	if err != nil {
		return res, err
	}
	res.Claimed = len(batch)
	if len(batch) == 0 {
		return res, nil
	}
	hb := w.beat(ctx, batch)
	defer hb.end()
	session := w.cfg.Sender.Open()
	defer func() {
		if err := session.Close(); err != nil {
			w.cfg.Log.Debug("outbox: closing the SMTP session", "error", err)
		}
	}()
	replyTo := map[string]string{}
	for i := range batch {
		e := &batch[i]
		if ctx.Err() != nil {
			res.Released += w.release(ctx, batch[i:])
			break
		}
		if !hb.holds(e.ID) {
			res.Lost++ // another worker has it, or will have it before this one is done
			hb.finished(e.ID)
			continue
		}
		err := w.send(ctx, session, e, replyTo)
		var unreachable *ConnectError
		if errors.As(err, &unreachable) {
			res.Unreachable = true
			if ctx.Err() != nil { // the dial was cut short by the stop
				res.Released += w.release(ctx, batch[i:])
				break
			}
			for j := i; j < len(batch); j++ {
				w.count(&res, w.record(ctx, &batch[j], err))
				hb.finished(batch[j].ID)
			}
			break
		}
		w.count(&res, w.record(ctx, e, err))
		hb.finished(e.ID)
	}
	return res, nil
}

// send opens what e says, builds its message and sends it. Content that
// does not open (another master secret) is a permanent failure: the email
// stays failed, with its content, until `usher outbox retry`.
func (w *Worker) send(ctx context.Context, s Session, e *storage.OutboxEmail, replyTo map[string]string) error {
	c, err := openContent(w.cfg.Sealer, e)
	if err != nil {
		return &PermanentError{Reply: err.Error()}
	}
	clear := *e
	clear.Subject, clear.TextBody, clear.HTMLBody = c.subject, c.text, c.html
	m, err := NewMessage(&clear, w.cfg.Host, w.replyTo(ctx, e.InstitutionID, replyTo))
	if err != nil {
		return err
	}
	return s.Send(ctx, m)
}

// replyTo returns the Reply-To of an institution's emails, read once per
// batch.
func (w *Worker) replyTo(ctx context.Context, institutionID string, cache map[string]string) string {
	if w.cfg.Institutions == nil {
		return ""
	}
	if v, ok := cache[institutionID]; ok {
		return v
	}
	v := ""
	if inst, err := w.cfg.Institutions.GetInstitution(ctx, institutionID); err == nil {
		v = inst.Settings.Email.ReplyTo
	}
	cache[institutionID] = v
	return v
}

// outcome is what became of one email.
type outcome int

const (
	outcomeSent outcome = iota
	outcomeRetried
	outcomeFailed
)

func (w *Worker) count(res *BatchResult, o outcome) {
	switch o {
	case outcomeSent:
		res.Sent++
	case outcomeRetried:
		res.Retried++
	case outcomeFailed:
		res.Failed++
	}
}

// markTimeout bounds the recording of an outcome, which goes on when the
// worker is stopping: a sent email must not be left looking unsent.
const markTimeout = 30 * time.Second

// record writes the outcome of sending e (err nil: sent) in the outbox.
func (w *Worker) record(ctx context.Context, e *storage.OutboxEmail, err error) outcome {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	log := w.cfg.Log.With("email", e.ID, "class", e.Class, "attempt", e.Attempts)
	var unreachable *ConnectError
	if errors.As(err, &unreachable) {
		w.smtp.Failed("server unreachable", err)
	}
	if err == nil {
		w.smtp.OK()
		w.cfg.Metrics.EmailSent(e.Class)
		w.mark(mctx, log, "sent", func() error { return w.cfg.Queue.MarkEmailSent(mctx, e.ID) })
		log.Info("email sent")
		return outcomeSent
	}
	w.cfg.Metrics.EmailFailed(e.Class)
	reason := describe(err)
	if Permanent(err) {
		w.mark(mctx, log, "failed", func() error { return w.cfg.Queue.MarkEmailFailed(mctx, e.ID, reason) })
		log.Error("email refused; it will not be retried", "reply", reason)
		return outcomeFailed
	}
	now := w.cfg.Now()
	deadline := e.CreatedAt.Add(w.cfg.RetryFor)
	if !now.Before(deadline) {
		reason = describe(fmt.Errorf("gave up after %d attempts over %s: %s", e.Attempts, w.cfg.RetryFor, reason))
		w.mark(mctx, log, "failed", func() error { return w.cfg.Queue.MarkEmailFailed(mctx, e.ID, reason) })
		log.Error("email not delivered in time; it will not be retried", "error", reason)
		return outcomeFailed
	}
	next := now.Add(Backoff(e.Attempts, w.cfg.Jitter()))
	if next.After(deadline) {
		next = deadline // one last attempt when the time is up
	}
	w.mark(mctx, log, "retried", func() error { return w.cfg.Queue.MarkEmailRetry(mctx, e.ID, next, reason) })
	level := slog.LevelWarn
	if unreachable != nil {
		level = slog.LevelDebug // the outage is logged once (w.smtp)
	}
	log.Log(mctx, level, "email delivery failed; it will be retried", "error", reason, "next_attempt", next)
	return outcomeRetried
}

// mark runs a write of an outcome, trying again a few times: an email sent
// but not marked would be sent again when its lease ends.
func (w *Worker) mark(ctx context.Context, log *slog.Logger, what string, write func() error) {
	for try := 1; ; try++ {
		err := write()
		switch {
		case err == nil:
			return
		case errors.Is(err, storage.ErrConflict):
			log.Info("email delivered by another worker meanwhile", "outcome", what)
			return
		case errors.Is(err, storage.ErrNotFound) || try == 3 || ctx.Err() != nil:
			log.Error("outbox: recording an outcome failed", "outcome", what, "error", err)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(try) * 500 * time.Millisecond):
		}
	}
}

// release gives claimed emails back, due now, with their last error kept.
func (w *Worker) release(ctx context.Context, emails []storage.OutboxEmail) int {
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	now := w.cfg.Now()
	for i := range emails {
		if err := w.cfg.Queue.MarkEmailRetry(mctx, emails[i].ID, now, emails[i].LastError); err != nil &&
			!errors.Is(err, storage.ErrConflict) {
			w.cfg.Log.Warn("outbox: releasing an email failed; it is retried when its lease ends",
				"email", emails[i].ID, "error", err)
		}
	}
	return len(emails)
}

// Backoff is the delay after the attempt-th failure (attempt ≥ 1) for a
// jitter in [0, 1): between half and all of backoffBase·2^(attempt-1),
// capped at backoffCap.
func Backoff(attempt int, jitter float64) time.Duration {
	d := backoffBase
	for i := 1; i < attempt && d < backoffCap; i++ {
		d *= 2
	}
	d = min(d, backoffCap)
	return d/2 + time.Duration(float64(d/2)*jitter)
}

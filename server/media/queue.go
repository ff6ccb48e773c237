package media

import "sync"

// taskQueue is a member's actor: tasks pushed from anywhere run one at a
// time, in order, on the goroutine that calls run. Pushing never blocks.
// The room's own tasks (push: track changes, pion's callbacks) are
// bounded by the room's events; the member's requests (pushBounded) by a
// limit on those pending.
type taskQueue struct {
	mu      sync.Mutex
	tasks   []func()
	pending int // tasks of pushBounded not yet started
	closed  bool
	wake    chan struct{}
}

// pushResult is what pushBounded did.
type pushResult int

const (
	pushed pushResult = iota
	pushClosed
	pushFull
)

// pushBounded queues f unless the queue is closed or limit tasks of
// pushBounded are waiting already.
func (q *taskQueue) pushBounded(f func(), limit int) pushResult {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return pushClosed
	}
	if q.pending >= limit {
		q.mu.Unlock()
		return pushFull
	}
	q.pending++
	q.tasks = append(q.tasks, func() {
		q.mu.Lock()
		q.pending--
		q.mu.Unlock()
		f()
	})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return pushed
}

func newTaskQueue() *taskQueue { return &taskQueue{wake: make(chan struct{}, 1)} }

// push queues f; it reports false (and drops f) once the queue is closed.
func (q *taskQueue) push(f func()) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.tasks = append(q.tasks, f)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// closeWith queues last as the final task: nothing pushed after it runs,
// and run returns once it has. It reports false when already closed.
func (q *taskQueue) closeWith(last func()) bool {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return false
	}
	q.tasks = append(q.tasks, last)
	q.closed = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// run runs the tasks until the queue is closed and drained. idle is
// called each time the queue has just run dry (to coalesce work, such as
// one renegotiation signal for many track changes).
func (q *taskQueue) run(idle func()) {
	for {
		q.mu.Lock()
		tasks := q.tasks
		q.tasks = nil
		closed := q.closed
		q.mu.Unlock()
		for _, f := range tasks {
			f()
		}
		if closed {
			q.mu.Lock()
			left := len(q.tasks)
			q.mu.Unlock()
			if left == 0 {
				return
			}
			continue
		}
		if len(tasks) > 0 {
			q.mu.Lock()
			empty := len(q.tasks) == 0
			q.mu.Unlock()
			if empty {
				idle()
			}
			continue
		}
		<-q.wake
	}
}

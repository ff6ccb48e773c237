package media

import "sync"

// taskQueue is a member's actor: tasks pushed from anywhere run one at a
// time, in order, on the goroutine that calls run. Pushing never blocks
// (the queue grows; what goes on it is bounded by the room's events and
// the member's own requests).
type taskQueue struct {
	mu     sync.Mutex
	tasks  []func()
	closed bool
	wake   chan struct{}
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

package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
)

// Migration is one slot migration as GET /migrations lists it.
type Migration struct {
	ID         uint64   `json:"id"`
	From       int      `json:"from"`
	To         int      `json:"to"`
	Ranges     [][2]int `json:"ranges"`
	State      string   `json:"state"` // copying | done | cancelled
	KeysMoved  int64    `json:"keys_moved"`
	BytesMoved int64    `json:"bytes_moved"`
	Started    int64    `json:"started"`  // unix ms
	Finished   int64    `json:"finished"` // unix ms, 0 while active
	Reason     string   `json:"reason,omitempty"`
}

// MigrationRequest is the body of POST /migrations.
type MigrationRequest struct {
	From   int      `json:"from"`
	To     int      `json:"to"`
	Ranges [][2]int `json:"ranges"`
}

// MigrationCreated answers a POST /migrations.
type MigrationCreated struct {
	ID uint64 `json:"id"`
}

// MigrationReport is a source mover's progress (POST /migrations/report,
// node to leader).
type MigrationReport struct {
	ID       uint64 `json:"id"`
	Keys     int64  `json:"keys"`
	Bytes    int64  `json:"bytes"`
	Paused   bool   `json:"paused"`
	CaughtUp bool   `json:"caught_up"`
}

// MigrationCancel is the body of POST /migrations/cancel (ID 0: every
// active migration).
type MigrationCancel struct {
	ID     uint64 `json:"id"`
	Reason string `json:"reason,omitempty"`
}

// MigrationView is what a View offers for slot migrations (leader-side
// calls, like Join; a View without it answers 404 on these routes).
type MigrationView interface {
	Migrations() []Migration
	StartMigration(ctx context.Context, req MigrationRequest) (uint64, error)
	ReportMigration(r MigrationReport) error
	CancelMigration(ctx context.Context, req MigrationCancel) (int, error)
}

func (s *Server) migrationRoutes(mux *http.ServeMux) {
	mv, ok := s.cfg.View.(MigrationView)
	if !ok {
		return
	}
	mux.HandleFunc("GET /migrations", func(w http.ResponseWriter, r *http.Request) {
		if !s.cfg.View.IsLeader() { // the leader holds the movers' progress
			s.forward(w, r, nil)
			return
		}
		ms := mv.Migrations()
		if ms == nil {
			ms = []Migration{}
		}
		writeJSON(w, http.StatusOK, ms)
	})
	leaderPost := func(name string, fn func(ctx context.Context, body []byte) (int, any, error)) http.HandlerFunc {
		return s.guard(func(w http.ResponseWriter, r *http.Request) {
			body, ok := readBody(w, r)
			if !ok {
				return
			}
			if !s.cfg.View.IsLeader() {
				s.forward(w, r, body)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
			defer cancel()
			code, v, err := fn(ctx, body)
			if errors.Is(err, ErrNotLeader) {
				s.forward(w, r, body)
				return
			}
			if err != nil {
				s.log.Warn(name+" failed", "err", err)
				http.Error(w, name+": "+err.Error(), errorStatus(err))
				return
			}
			writeJSON(w, code, v)
		})
	}
	mux.HandleFunc("POST /migrations", leaderPost("migration", func(ctx context.Context, body []byte) (int, any, error) {
		var req MigrationRequest
		if err := decodeStrict(body, &req); err != nil {
			return 0, nil, errors.Join(ErrInvalid, err)
		}
		if len(req.Ranges) == 0 {
			return 0, nil, errors.Join(ErrInvalid, errors.New("ranges: at least one [start,end] slot range"))
		}
		id, err := mv.StartMigration(ctx, req)
		return http.StatusCreated, MigrationCreated{ID: id}, err
	}))
	mux.HandleFunc("POST /migrations/report", leaderPost("migration report", func(_ context.Context, body []byte) (int, any, error) {
		var rep MigrationReport
		if err := json.Unmarshal(body, &rep); err != nil {
			return 0, nil, errors.Join(ErrInvalid, err)
		}
		return http.StatusOK, struct{}{}, mv.ReportMigration(rep)
	}))
	mux.HandleFunc("POST /migrations/cancel", leaderPost("migration cancel", func(ctx context.Context, body []byte) (int, any, error) {
		var req MigrationCancel
		if len(body) > 0 {
			if err := decodeStrict(body, &req); err != nil {
				return 0, nil, errors.Join(ErrInvalid, err)
			}
		}
		n, err := mv.CancelMigration(ctx, req)
		return http.StatusOK, struct {
			Cancelled int `json:"cancelled"`
		}{n}, err
	}))
}

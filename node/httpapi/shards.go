package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// ShardAdmin adds and retires shards (warden cluster add-shard and
// remove-shard). Its methods run on the Raft leader only and return
// ErrNotLeader elsewhere (the handler then forwards); other errors map
// to statuses as errorStatus does.
type ShardAdmin interface {
	// AddShard appends a shard with no slots and no nodes yet; it returns
	// the new shard's id.
	AddShard(ctx context.Context) (int, error)
	// RemoveShard retires a shard that owns no slots.
	RemoveShard(ctx context.Context, id int) error
}

// ShardResponse is the body of POST /shards (201) and DELETE /shards/N (200).
type ShardResponse struct {
	ID      int  `json:"id"`
	Removed bool `json:"removed,omitempty"`
}

func (s *Server) shardRoutes(mux *http.ServeMux) {
	if s.cfg.Shards == nil {
		return
	}
	mux.HandleFunc("POST /shards", s.guard(s.handleAddShard))
	mux.HandleFunc("DELETE /shards/{id}", s.guard(s.handleRemoveShard))
}

func (s *Server) handleAddShard(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r) // no parameters; forwarded verbatim
	if !ok {
		return
	}
	id, err := 0, ErrNotLeader
	if s.cfg.View.IsLeader() {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		id, err = s.cfg.Shards.AddShard(ctx)
	}
	if errors.Is(err, ErrNotLeader) {
		s.forward(w, r, body)
		return
	}
	if err != nil {
		s.log.Warn("add shard failed", "err", err)
		http.Error(w, "add shard: "+err.Error(), errorStatus(err))
		return
	}
	s.log.Info("shard added", "shard", id)
	writeJSON(w, http.StatusCreated, ShardResponse{ID: id})
}

func (s *Server) handleRemoveShard(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	v := r.PathValue("id")
	id, perr := strconv.Atoi(v)
	if perr != nil || id < 0 {
		http.Error(w, fmt.Sprintf("bad shard %q: want a non-negative integer", v), http.StatusBadRequest)
		return
	}
	err := ErrNotLeader
	if s.cfg.View.IsLeader() {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		err = s.cfg.Shards.RemoveShard(ctx, id)
	}
	if errors.Is(err, ErrNotLeader) {
		s.forward(w, r, body)
		return
	}
	if err != nil {
		s.log.Warn("remove shard failed", "shard", id, "err", err)
		http.Error(w, fmt.Sprintf("remove shard %d: %v", id, err), errorStatus(err))
		return
	}
	s.log.Info("shard removed", "shard", id)
	writeJSON(w, http.StatusOK, ShardResponse{ID: id, Removed: true})
}

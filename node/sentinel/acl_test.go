package sentinel

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/wardenkv/warden/acl"
)

// TestAuthACLUsers: with Auth.Users the listener takes the node's ACL
// users (AUTH user pass, go-redis's SentinelUsername); a user limited to
// some commands gets Redis's NOPERM for the others, and Sentinel's own
// commands need +@all.
func TestAuthACLUsers(t *testing.T) {
	cat, err := acl.NewCatalog([]acl.CommandDef{
		{Name: "ping", Categories: []string{"@fast", "@connection"}},
		{Name: "info", Categories: []string{"@slow", "@dangerous"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	users := acl.NewStore(cat)
	if err := users.SetUser("ops", []string{"on", ">opw", "+@all"}); err != nil {
		t.Fatal(err)
	}
	if err := users.SetUser("mon", []string{"on", ">mpw", "+ping"}); err != nil {
		t.Fatal(err)
	}
	auth, _ := withPassword("sp", true)
	auth.Users = func(user string, pass []byte) (func(string) bool, bool) {
		u := users.Authenticate(user, pass)
		if u == nil {
			return nil, false
		}
		return func(cmd string) bool { return u.AllowsCommand(cat, cmd) }, true
	}
	s := startAuthServer(t, sampleView(), auth)
	ctx := context.Background()

	ops := redis.NewSentinelClient(&redis.Options{Addr: s.Addr().String(), Username: "ops", Password: "opw", MaxRetries: -1})
	t.Cleanup(func() { ops.Close() })
	if _, err := ops.Masters(ctx).Result(); err != nil {
		t.Fatalf("ops SENTINEL MASTERS: %v", err)
	}
	mon := redis.NewSentinelClient(&redis.Options{Addr: s.Addr().String(), Username: "mon", Password: "mpw", MaxRetries: -1})
	t.Cleanup(func() { mon.Close() })
	if err := mon.Ping(ctx).Err(); err != nil {
		t.Fatalf("mon PING: %v", err)
	}
	if err := mon.Failover(ctx, "mymaster").Err(); err == nil || err.Error() != "NOPERM this user has no permissions to run the 'sentinel|failover' command" {
		t.Fatalf("mon SENTINEL FAILOVER: %v", err)
	}
	bad := redis.NewSentinelClient(&redis.Options{Addr: s.Addr().String(), Username: "mon", Password: "x", MaxRetries: -1})
	t.Cleanup(func() { bad.Close() })
	if err := bad.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password: %v", err)
	}
	// The default user still authenticates with the listener's password.
	def := redis.NewSentinelClient(&redis.Options{Addr: s.Addr().String(), Password: "sp", MaxRetries: -1})
	t.Cleanup(func() { def.Close() })
	if err := def.Ping(ctx).Err(); err != nil {
		t.Fatalf("default: %v", err)
	}
}

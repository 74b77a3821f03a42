# warden — build, run and test targets.
GO       ?= go
BIN      := bin/warden
PKGS     := ./...
FUZZTIME ?= 20s

.PHONY: build run test test-short bench fuzz vet clean jepsen jepsen-short jepsen-cluster jepsen-cluster-short jepsen-compose

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(BIN) ./cmd/warden

# A node on defaults: port 6379, data under ./data.
run: build
	./$(BIN) server --dir ./data

# A pipe into the progress printer must fail when go test fails.
SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -c

# The whole suite: unit, integration (real listeners, go-redis, redis-cli).
# Packages are printed as they finish (failed tests with their output), with
# a line every 30 s naming those still running, and the slowest at the end.
# TESTP: go test's -p counts a running test binary as one of its jobs, and
# the slow packages mostly wait on processes, clusters and docker: with -p
# at the core count compilation stalls behind them, so it is twice that.
# third_party/redcon, gopher-lua and memberlist are their own modules
# (warden's patched copies): ./... skips them. gopher-lua's vet findings are
# upstream's (its tests run with -vet=off); memberlist's tests need extra
# loopback addresses and are left to gossip/ and the cluster tests.
TESTP ?= $(shell echo $$(( $$(nproc) * 2 )))
test: build
	$(GO) vet $(PKGS)
	$(GO) build -o bin/testprogress ./internal/testprogress
	$(GO) test -race -count=1 -p $(TESTP) -timeout 20m -json $(PKGS) 2>&1 | bin/testprogress
	cd third_party/redcon && $(GO) vet . && $(GO) test -race -count=1 -json . 2>&1 | ../../bin/testprogress
	cd third_party/gopher-lua && $(GO) test -vet=off -count=1 -json . 2>&1 | ../../bin/testprogress

test-short:
	$(GO) test -count=1 -short $(PKGS)

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./keyspace/... ./node/
	bash bench/compare.sh

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzSlot -fuzztime $(FUZZTIME) ./slotmap/
	$(GO) test -run '^$$' -fuzz FuzzCommands -fuzztime $(FUZZTIME) ./node/
	$(GO) test -run '^$$' -fuzz FuzzParseBuffered -fuzztime $(FUZZTIME) ./node/
	$(GO) test -run '^$$' -fuzz FuzzConfigLine -fuzztime $(FUZZTIME) ./node/config/
	$(GO) test -run '^$$' -fuzz FuzzParsePayload -fuzztime $(FUZZTIME) ./keyspace/rdb/
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./keyspace/rdb/
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./keyspace/aof/
	$(GO) test -run '^$$' -fuzz '^FuzzPackedHash$$' -fuzztime $(FUZZTIME) ./keyspace/
	$(GO) test -run '^$$' -fuzz '^FuzzPackedZSet$$' -fuzztime $(FUZZTIME) ./keyspace/
	$(GO) test -run '^$$' -fuzz '^FuzzTable$$' -fuzztime $(FUZZTIME) ./keyspace/
	cd third_party/redcon && $(GO) test -run '^$$' -fuzz '^FuzzReader$$' -fuzztime $(FUZZTIME) .

vet:
	$(GO) vet $(PKGS)

# The fault suite (cmd/warden-jepsen, GUARANTEES.md): three nodes in network
# namespaces (needs root; prints SKIP with the reason otherwise), a seeded
# nemesis, register (porcupine) and set workloads. Exits 1 on a forbidden
# anomaly. Results (history.jsonl, timeline.svg, porcupine's HTML) go under
# results/. JEPSEN_SEED=n replays a run's schedule; JEPSEN_ARGS adds flags.
JEPSEN_SEED ?= 0
JEPSEN_ARGS ?=
jepsen: build
	$(GO) build -o bin/warden-jepsen ./cmd/warden-jepsen
	CLUSTERTEST_BINARY=$(BIN) bin/warden-jepsen -seed $(JEPSEN_SEED) -faults 110 -duration 0 $(JEPSEN_ARGS)

# Every fault kind twice (22 faults): 2m06s-2m17s measured on 2 cores.
jepsen-short: build
	$(GO) build -o bin/warden-jepsen ./cmd/warden-jepsen
	CLUSTERTEST_BINARY=$(BIN) bin/warden-jepsen -seed $(JEPSEN_SEED) -faults 22 -duration 200s $(JEPSEN_ARGS)

# The same against cluster mode: six nodes (three voters), cluster-enabled,
# three shards of master + replica; clients route by CLUSTER SLOTS, the
# nemesis also migrates slots under the workload's keys (killing a master
# during the move 2 times in 3), and the checker adds "every slot owned by
# exactly one shard".
jepsen-cluster: build
	$(GO) build -o bin/warden-jepsen ./cmd/warden-jepsen
	CLUSTERTEST_BINARY=$(BIN) bin/warden-jepsen -topology cluster6 -seed $(JEPSEN_SEED) -faults 120 -duration 0 $(JEPSEN_ARGS)

# Every fault kind twice (24 faults).
jepsen-cluster-short: build
	$(GO) build -o bin/warden-jepsen ./cmd/warden-jepsen
	CLUSTERTEST_BINARY=$(BIN) bin/warden-jepsen -topology cluster6 -seed $(JEPSEN_SEED) -faults 24 -duration 240s $(JEPSEN_ARGS)

# The short run against containers of a docker compose project (the image
# warden:dev): kill, pause and isolation through the docker CLI (docker
# kill, pause, network disconnect), link cuts by iptables inside the
# containers. JEPSEN_ARGS="-topology cluster6 -faults 24" for cluster mode.
jepsen-compose: image
	$(GO) build -o bin/warden-jepsen ./cmd/warden-jepsen
	CLUSTERTEST_BINARY=$(BIN) bin/warden-jepsen -target compose -seed $(JEPSEN_SEED) -faults 22 -duration 200s $(JEPSEN_ARGS)

clean:
	rm -rf bin

# Docker: a FROM-scratch image of the static binary, and the 3-node compose
# cluster. COMPOSE is the docker plugin where it exists, else docker-compose
# (v1). The project is named warden rather than after the directory
# (deploy); v1 compose files cannot name it, so it is given with -p.
COMPOSE         = $(shell docker compose version >/dev/null 2>&1 && echo 'docker compose' || echo docker-compose)
COMPOSE_PROJECT ?= warden

.PHONY: image compose-up compose-down cluster-up cluster-down rolling-restart rolling-restart-local

image: build
	docker build -f deploy/Dockerfile -t warden:dev .

# The nodes need a shared cluster secret: WARDEN_CLUSTER_SECRET, or a
# random one (printed, for POST /failover).
compose-up: image
	@secret="$${WARDEN_CLUSTER_SECRET:-$$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"; \
	echo "WARDEN_CLUSTER_SECRET=$$secret"; \
	WARDEN_CLUSTER_SECRET="$$secret" $(COMPOSE) -p $(COMPOSE_PROJECT) -f deploy/docker-compose.yml up -d

# Keeps the data volumes; `$(COMPOSE) -p warden -f deploy/docker-compose.yml down -v` drops them.
# (down starts nothing, but compose insists the secret's variable be set.)
compose-down:
	WARDEN_CLUSTER_SECRET="$${WARDEN_CLUSTER_SECRET:-unused}" $(COMPOSE) -p $(COMPOSE_PROJECT) -f deploy/docker-compose.yml down

# The six-node Redis Cluster mode cluster (3 shards x master + replica).
cluster-up: image
	@secret="$${WARDEN_CLUSTER_SECRET:-$$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')}"; \
	echo "WARDEN_CLUSTER_SECRET=$$secret"; \
	WARDEN_CLUSTER_SECRET="$$secret" $(COMPOSE) -p $(COMPOSE_PROJECT)-cluster -f deploy/docker-compose.cluster.yml up -d

cluster-down:
	WARDEN_CLUSTER_SECRET="$${WARDEN_CLUSTER_SECRET:-unused}" $(COMPOSE) -p $(COMPOSE_PROJECT)-cluster -f deploy/docker-compose.cluster.yml down

# Rolling restart (SIGTERM, restart, wait until ready; one node at a time)
# while clients write with WAIT 1: prints the longest write pause a client
# saw and the acknowledged writes lost. The compose cluster must be up
# (make compose-up); the -local one runs three bin/warden processes.
rolling-restart: build
	COMPOSE="$(COMPOSE)" WARDEN_COMPOSE_PROJECT=$(COMPOSE_PROJECT) bash bench/rolling-restart.sh compose

rolling-restart-local: build
	bash bench/rolling-restart.sh local

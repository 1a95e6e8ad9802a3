#!/bin/sh
# Runs pgr_dijkstra for every pair of DIR/pairs.csv (s,t) on the edge table
# DIR/edges.csv (id,source,target,cost) in a throw-away PostgreSQL cluster;
# writes DIR/pgr_costs.csv (s,t,agg_cost) and prints the wall seconds of the
# query. Exit 77 when PostgreSQL or pgRouting is not installed.
set -eu
DIR=$1
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] || exit 77
ls /usr/share/postgresql/*/extension/pgrouting.control >/dev/null 2>&1 || exit 77
PORT=${PGR_PORT:-55437}
chmod 777 "$DIR"
AS=""
[ "$(id -u)" = 0 ] && AS="runuser -u postgres --"
$AS "$PGBIN/initdb" -A trust -U postgres -D "$DIR/db" >/dev/null
$AS "$PGBIN/pg_ctl" -D "$DIR/db" -l "$DIR/pg.log" -w -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >/dev/null
trap '$AS "$PGBIN/pg_ctl" -D "$DIR/db" -m immediate stop >/dev/null 2>&1 || true' EXIT
P="psql -X -q -h $DIR -p $PORT -U postgres -v ON_ERROR_STOP=1"
$P -c "CREATE EXTENSION pgrouting CASCADE" >/dev/null
$P -c "CREATE TABLE edges (id bigint, source bigint, target bigint, cost float8); CREATE TABLE pairs (s bigint, t bigint)"
$P -c "\\copy edges FROM '$DIR/edges.csv' CSV HEADER"
$P -c "\\copy pairs FROM '$DIR/pairs.csv' CSV HEADER"
T0=$(date +%s.%N)
# one pgr_dijkstra call per pair, as an application would issue them
$P -c "\\copy (SELECT p.s, p.t, (SELECT max(agg_cost) FROM pgr_dijkstra('SELECT id, source, target, cost FROM edges', p.s, p.t, true)) FROM pairs p) TO '$DIR/pgr_costs.csv' CSV"
T1=$(date +%s.%N)
echo "$T0 $T1" | awk '{printf "%.6f\n", $2 - $1}'

# Sourced by the mariadb image's entrypoint on the first start of the primary
# (an empty data directory), so docker_process_sql is available. The binlog is
# on (see compose.yml); this account lets the replica read it. Not logged to
# the binlog itself: the replica has no use for its own copy of the account.
docker_process_sql <<-EOSQL
	SET SESSION sql_log_bin = 0;
	CREATE USER IF NOT EXISTS '${REPLICATION_USER}'@'%' IDENTIFIED BY '${REPLICATION_PASSWORD}';
	GRANT REPLICATION SLAVE ON *.* TO '${REPLICATION_USER}'@'%';
EOSQL

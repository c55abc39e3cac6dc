# Sourced by the mariadb image's entrypoint on the first start of the replica.
# The image has already created the app database and user here (they are not
# in the primary's binlog: the entrypoint creates them with the binlog off), so
# replication starts from the beginning of the primary's binlog, GTID-based:
# the migrations and everything after them arrive through it. The slave
# threads start by themselves when the real server comes up after init.
docker_process_sql <<-EOSQL
	CHANGE MASTER TO
	  MASTER_HOST = '${PRIMARY_HOST}',
	  MASTER_PORT = 3306,
	  MASTER_USER = '${REPLICATION_USER}',
	  MASTER_PASSWORD = '${REPLICATION_PASSWORD}',
	  MASTER_USE_GTID = slave_pos,
	  MASTER_CONNECT_RETRY = 5;
EOSQL

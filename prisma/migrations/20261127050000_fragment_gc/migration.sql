-- Endpoint fragments no stored flow refers to any more are deleted (server/store/writer-worker.ts),
-- and an endpoint the server has dropped from memory gets a new id when it is seen again: the same
-- JSON may then be stored under two ids for a while, so "json" is no longer unique. Nothing looks a
-- fragment up by its JSON in the database (the server keeps that map in memory), so no index is kept:
-- the unique index stored every fragment's JSON a second time.

-- DropIndex
DROP INDEX "fragments_json_key";

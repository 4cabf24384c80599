/**
 * Server-side lease functions (PL/pgSQL), so each allocate or commit is one round trip.
 *
 * Free-address search: instead of scanning for gaps (cost grows with the leases already given out),
 * every pool segment is filled lazily with `free` rows, a chunk at a time; `pool_fill` remembers how
 * far each segment is filled. Picking an address is then an index probe on the partial index of free
 * rows with FOR UPDATE SKIP LOCKED, so concurrent allocators (any number of processes or servers) take
 * different rows without waiting, and the primary key on `address` makes double-booking impossible.
 * Order of preference inside a segment: never used, then released/expired (least recently changed
 * first, so a returning client more likely finds its old address), then leases past their end.
 */

/** A row of `s.leases` `l` can be taken by client `p_client` at `p_now`. */
const takeable = (l: string) => `(${l}.state IN ('free', 'released', 'expired')
      OR (${l}.state IN ('offered', 'bound') AND ((${l}.client_id = p_client AND ${l}.subnet_id = p_subnet) OR ${l}.expires_at <= p_now))
      OR (${l}.state = 'declined' AND ${l}.expires_at <= p_now))`;

const clientLock = `PERFORM pg_advisory_xact_lock(hashtextextended('pb-client:' || p_subnet || '/' || p_client, 0));`;

export function leaseFunctionsSql(s: string): string {
  return `
CREATE FUNCTION ${s}.pb_take(p_address bigint, p_subnet text, p_client text, p_mac text, p_hostname text, p_state text, p_expires bigint, p_now bigint)
RETURNS ${s}.leases LANGUAGE plpgsql AS $fn$
DECLARE
  r ${s}.leases;
BEGIN
  UPDATE ${s}.leases l SET subnet_id = p_subnet, client_id = p_client, mac = p_mac, hostname = p_hostname,
      state = p_state, expires_at = p_expires, updated_at = p_now
    WHERE l.address = p_address RETURNING l.* INTO r;
  -- one lease per client and subnet: a move to a new address ends the old one
  UPDATE ${s}.leases l SET state = 'released', expires_at = p_now, updated_at = p_now
    WHERE l.subnet_id = p_subnet AND l.client_id = p_client AND l.state IN ('offered', 'bound') AND l.expires_at > p_now AND l.address <> p_address;
  RETURN r;
END
$fn$;

CREATE FUNCTION ${s}.pb_allocate(p_subnet text, p_client text, p_mac text, p_hostname text, p_state text,
    p_expires bigint, p_now bigint, p_preferred bigint, p_preferred_only boolean,
    p_starts bigint[], p_ends bigint[], p_chunk integer,
    OUT r ${s}.leases, OUT reused boolean, OUT reason text)
LANGUAGE plpgsql AS $fn$
DECLARE
  cur ${s}.leases;
  i integer;
  seg_s bigint;
  seg_e bigint;
  cand bigint;
  seen bigint;
  fill_from bigint;
  fill_to bigint;
BEGIN
  reused := false;
  ${clientLock}

  -- 1. the client's current lease in this subnet
  SELECT * INTO cur FROM ${s}.leases l
    WHERE l.subnet_id = p_subnet AND l.client_id = p_client AND l.state IN ('offered', 'bound') AND l.expires_at > p_now
    ORDER BY l.updated_at DESC LIMIT 1 FOR UPDATE;
  IF FOUND AND (p_preferred IS NULL OR NOT p_preferred_only OR cur.address = p_preferred) THEN
    reused := true;
    IF cur.state = 'bound' AND p_state = 'offered' THEN
      r := cur;
      RETURN;
    END IF;
    UPDATE ${s}.leases l SET state = p_state, expires_at = p_expires, mac = p_mac,
        hostname = COALESCE(p_hostname, l.hostname), updated_at = p_now
      WHERE l.address = cur.address RETURNING l.* INTO r;
    RETURN;
  END IF;

  -- 2. the preferred address (requested or reserved) when free or already this client's
  IF p_preferred IS NOT NULL THEN
    INSERT INTO ${s}.leases AS l (address, subnet_id, client_id, mac, hostname, state, expires_at, updated_at)
      VALUES (p_preferred, p_subnet, p_client, p_mac, p_hostname, p_state, p_expires, p_now)
      ON CONFLICT (address) DO UPDATE SET subnet_id = EXCLUDED.subnet_id, client_id = EXCLUDED.client_id,
        mac = EXCLUDED.mac, hostname = EXCLUDED.hostname, state = EXCLUDED.state,
        expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
      WHERE ${takeable('l')}
      RETURNING l.* INTO r;
    IF FOUND THEN
      UPDATE ${s}.leases l SET state = 'released', expires_at = p_now, updated_at = p_now
        WHERE l.subnet_id = p_subnet AND l.client_id = p_client AND l.state IN ('offered', 'bound') AND l.expires_at > p_now AND l.address <> p_preferred;
      RETURN;
    END IF;
    IF p_preferred_only THEN
      reason := 'preferred-unavailable';
      RETURN;
    END IF;
  END IF;

  -- 3. the client's previous address (its latest record in the subnet), when free again and still in the pool
  SELECT l.address INTO cand FROM ${s}.leases l
    WHERE l.subnet_id = p_subnet AND l.client_id = p_client AND l.state <> 'free'
    ORDER BY l.updated_at DESC, (l.state IN ('offered', 'bound')) DESC, l.address LIMIT 1;
  IF cand IS NOT NULL AND EXISTS (SELECT 1 FROM unnest(p_starts, p_ends) AS g(gs, ge) WHERE cand BETWEEN g.gs AND g.ge) THEN
    SELECT l.address INTO cand FROM ${s}.leases l
      WHERE l.address = cand AND l.client_id = p_client AND ${takeable('l')}
      FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
      r := ${s}.pb_take(cand, p_subnet, p_client, p_mac, p_hostname, p_state, p_expires, p_now);
      reused := true;
      RETURN;
    END IF;
  END IF;

  -- 4. the pool, segment by segment in preference order
  FOR i IN 1 .. COALESCE(array_length(p_starts, 1), 0) LOOP
    seg_s := p_starts[i];
    seg_e := p_ends[i];
    LOOP
      SELECT l.address INTO cand FROM ${s}.leases l
        WHERE l.state = 'free' AND l.address BETWEEN seg_s AND seg_e
        ORDER BY l.address LIMIT 1 FOR UPDATE SKIP LOCKED;
      IF FOUND THEN
        r := ${s}.pb_take(cand, p_subnet, p_client, p_mac, p_hostname, p_state, p_expires, p_now);
        RETURN;
      END IF;
      -- no free row: fill the next chunk of the segment (one filler at a time per segment)
      SELECT f.filled_to INTO seen FROM ${s}.pool_fill f WHERE f.seg_start = seg_s AND f.seg_end = seg_e;
      IF NOT FOUND THEN
        INSERT INTO ${s}.pool_fill (seg_start, seg_end, filled_to) VALUES (seg_s, seg_e, seg_s - 1) ON CONFLICT DO NOTHING;
        seen := seg_s - 1;
      END IF;
      SELECT f.filled_to INTO fill_from FROM ${s}.pool_fill f WHERE f.seg_start = seg_s AND f.seg_end = seg_e FOR UPDATE;
      CONTINUE WHEN fill_from > seen; -- another allocator filled meanwhile: pick again
      EXIT WHEN fill_from >= seg_e;
      fill_to := LEAST(fill_from + p_chunk, seg_e);
      INSERT INTO ${s}.leases (address, subnet_id, state)
        SELECT g, p_subnet, 'free' FROM generate_series(fill_from + 1, fill_to) AS g
        ON CONFLICT (address) DO NOTHING;
      UPDATE ${s}.pool_fill f SET filled_to = fill_to WHERE f.seg_start = seg_s AND f.seg_end = seg_e;
    END LOOP;

    SELECT l.address INTO cand FROM ${s}.leases l
      WHERE l.state IN ('released', 'expired') AND l.address BETWEEN seg_s AND seg_e
      ORDER BY l.updated_at, l.address LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
      r := ${s}.pb_take(cand, p_subnet, p_client, p_mac, p_hostname, p_state, p_expires, p_now);
      RETURN;
    END IF;

    SELECT l.address INTO cand FROM ${s}.leases l
      WHERE l.state IN ('offered', 'bound', 'declined') AND l.expires_at <= p_now AND l.address BETWEEN seg_s AND seg_e
      ORDER BY l.expires_at, l.address LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF FOUND THEN
      r := ${s}.pb_take(cand, p_subnet, p_client, p_mac, p_hostname, p_state, p_expires, p_now);
      RETURN;
    END IF;
  END LOOP;

  reason := 'exhausted';
END
$fn$;

CREATE FUNCTION ${s}.pb_commit(p_subnet text, p_address bigint, p_client text, p_mac text, p_hostname text,
    p_expires bigint, p_now bigint, OUT r ${s}.leases, OUT reason text)
LANGUAGE plpgsql AS $fn$
DECLARE
  cur_state text;
BEGIN
  ${clientLock}
  INSERT INTO ${s}.leases AS l (address, subnet_id, client_id, mac, hostname, state, expires_at, updated_at)
    VALUES (p_address, p_subnet, p_client, p_mac, p_hostname, 'bound', p_expires, p_now)
    ON CONFLICT (address) DO UPDATE SET subnet_id = EXCLUDED.subnet_id, client_id = EXCLUDED.client_id,
      mac = EXCLUDED.mac,
      hostname = COALESCE(EXCLUDED.hostname, CASE WHEN l.client_id = EXCLUDED.client_id THEN l.hostname END),
      state = 'bound', expires_at = EXCLUDED.expires_at, updated_at = EXCLUDED.updated_at
    WHERE ${takeable('l')}
    RETURNING l.* INTO r;
  IF FOUND THEN
    UPDATE ${s}.leases l SET state = 'released', expires_at = p_now, updated_at = p_now
      WHERE l.subnet_id = p_subnet AND l.client_id = p_client AND l.state IN ('offered', 'bound') AND l.expires_at > p_now AND l.address <> p_address;
    RETURN;
  END IF;
  SELECT l.state INTO cur_state FROM ${s}.leases l WHERE l.address = p_address;
  reason := CASE WHEN cur_state = 'declined' THEN 'declined' ELSE 'taken' END;
END
$fn$;
`;
}

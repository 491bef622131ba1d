/** Redis Cluster has 16384 hash slots; a key's slot is CRC16 (XMODEM) of its hash tag, or of the whole key. */
const SLOT_COUNT = 16384;

/** The slot Redis Cluster stores `key` in (the rule of CLUSTER KEYSLOT), for grouping keys per node. */
export function clusterKeySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  const open = bytes.indexOf(0x7b); // '{'
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // '}'
    // only a non-empty tag counts: `{}` hashes the whole key
    if (close > open + 1) return crc16(bytes.subarray(open + 1, close)) % SLOT_COUNT;
  }
  return crc16(bytes) % SLOT_COUNT;
}

/** CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), bit by bit: keys are short. */
function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

-- Leaves. ARGV: prefix, channel, client. Returns 1 when the member was there (leave event sent).
return remove_member(ARGV[1], ARGV[2], ARGV[3], false)

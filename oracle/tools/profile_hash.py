"""Independent reference implementation of oracle/PROFILE.md: prints the exact, f32 and q4_1 profile hashes of a
SmolLM2 GGUF from its bytes alone (no Rust). Usage: python3 oracle/tools/profile_hash.py MODEL.gguf"""
import struct, hashlib, sys
path = sys.argv[1]
raw = open(path, 'rb').read()
f = open(path, 'rb')
def u32(): return struct.unpack('<I', f.read(4))[0]
def u64(): return struct.unpack('<Q', f.read(8))[0]
def s(): n = u64(); return f.read(n).decode('utf-8')
assert f.read(4) == b'GGUF'; u32(); nt = u64(); nkv = u64()
fmt = {0:'<B',1:'<b',2:'<H',3:'<h',4:'<I',5:'<i',6:'<f',7:'<?',10:'<Q',11:'<q',12:'<d'}
def val(t):
    if t == 8: return s()
    if t == 9:
        et = u32(); n = u64(); return [val(et) for _ in range(n)]
    return struct.unpack(fmt[t], f.read(struct.calcsize(fmt[t])))[0]
md = {}
for _ in range(nkv):
    k = s(); t = u32(); md[k] = val(t)
L = lambda b: struct.pack('<I', len(b)) + b
tok = L(b'verity-tokenizer-v1') + L(md['tokenizer.ggml.model'].encode()) + L(md['tokenizer.ggml.pre'].encode())
tok += struct.pack('<I', len(md['tokenizer.ggml.tokens'])) + b''.join(L(t.encode()) for t in md['tokenizer.ggml.tokens'])
tok += struct.pack('<I', len(md['tokenizer.ggml.token_type'])) + b''.join(struct.pack('<i', t) for t in md['tokenizer.ggml.token_type'])
tok += struct.pack('<I', len(md['tokenizer.ggml.merges'])) + b''.join(L(m.encode()) for m in md['tokenizer.ggml.merges'])
tok_sha = hashlib.sha256(tok).digest()
w_sha = hashlib.sha256(raw).digest()
tmpl = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n"
stops = sorted({md['tokenizer.ggml.tokens'].index(n) for n in ["<|im_end|>", "<|endoftext|>"]} | {md['tokenizer.ggml.eos_token_id']})
for dtype, engine in [('exact', b'verity-exact-v1'), ('f32', b'verity-llama-v1/candle-0.11.1'), ('q4_1', b'verity-llama-v1/candle-0.11.1')]:
    b = L(b'verity-profile-v1') + w_sha + tok_sha + L(dtype.encode()) + L(b'verity-sample-v1') + L(tmpl.encode())
    b += struct.pack('<I', len(stops)) + b''.join(struct.pack('<I', t) for t in stops) + L(engine)
    print(dtype, hashlib.sha256(b).hexdigest())
print('weights', w_sha.hex()); print('tokenizer', tok_sha.hex()); print('stops', stops)

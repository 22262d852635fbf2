"""llama.cpp side of `verity bench infer`: greedy-decode token-id prompts with xllamacpp, report timings.

Input (argv): model path, threads, max_tokens, batch widths (comma-separated), then a JSON file holding a list
of token-id prompts (the exact ids the engine feeds its model, chat template included). Output: one JSON object
on stdout, a run per width keyed `b<width>`.
"""
import json
import sys
import threading
import time

import xllamacpp as xlc


def main():
    model, threads, max_tokens, widths, prompts_file = sys.argv[1:6]
    threads, max_tokens = int(threads), int(max_tokens)
    widths = [int(w) for w in widths.split(",")]
    prompts = json.load(open(prompts_file))
    params = xlc.CommonParams()
    params.model.path = model
    params.n_ctx = 4096
    params.n_parallel = max(max(widths), 1)
    params.n_predict = max_tokens
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.n_gpu_layers = 0
    server = xlc.Server(params)

    def complete(ids, out, i):
        req = {"prompt": ids, "n_predict": max_tokens, "temperature": 0.0, "top_k": 1, "cache_prompt": False}
        t = time.perf_counter()
        res = server.handle_completions(req)
        secs = time.perf_counter() - t
        if not isinstance(res, dict) or "choices" not in res:
            raise SystemExit(f"llama.cpp error: {res}")
        out[i] = {"res": res, "secs": secs}

    complete(prompts[0][:8], [None], 0)  # warm-up
    runs = {}
    for mode, width in ((f"b{w}", w) for w in widths):
        out = [None] * len(prompts)
        t = time.perf_counter()
        for start in range(0, len(prompts), width):
            ths = [threading.Thread(target=complete, args=(prompts[i], out, i))
                   for i in range(start, min(start + width, len(prompts)))]
            [th.start() for th in ths]
            [th.join() for th in ths]
        wall = time.perf_counter() - t
        tokens = sum(r["res"]["timings"]["predicted_n"] for r in out)
        runs[mode] = {"tokens": tokens, "secs": wall,
                      "texts": [r["res"]["choices"][0]["text"] for r in out],
                      "decode_tok_per_s": [r["res"]["timings"].get("predicted_per_second") for r in out]}
    print(json.dumps(runs))


if __name__ == "__main__":
    main()

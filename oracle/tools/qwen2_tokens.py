"""Reference token ids for the qwen2 pre-tokenizer (oracle/tests/data/qwen2_tokens.txt): llama.cpp's own tokenizer
(PyPI xllamacpp, as scripts/bench-infer.sh installs it) on the Qwen2.5-Coder-0.5B GGUF, via the server's /tokenize
with add_special=false, parse_special=false (user text: control tokens stay plain text, as in the engine); the
last line is the rendered chat template around a prompt, tokenized with parse_special=true.
Usage: ~/.cache/verity/bench-venv/bin/python oracle/tools/qwen2_tokens.py MODEL.gguf > oracle/tests/data/qwen2_tokens.txt"""
import json
import sys
import urllib.request

import xllamacpp as xlc

TEXTS = [
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "12345",
    "I'm sure they'll say we've done it, isn't it? I'M LOUD, YOU'RE TOO",
    "café 日本語",
    "a  b   c    d     e",
    "\n\n",
    "x = [1, 2, 3]\t# tab\r\n\ty = {'k': 3.14159}\n\n\n  end  ",
    "Hello world! <|im_end|> <tool_call>{\"name\": \"f\"}</tool_call>",
    "🦀 Rust 🚀 naïve Ünïcödé — “quotes” 2024-01-31",
    "   leading spaces\n\t\tand tabs\n    \n",
]
# oracle/src/inference/registry.rs QWEN_TEMPLATE.
TEMPLATE = ("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            "<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n")
CHAT = "Write a Python function that returns the 10th Fibonacci number."


def main():
    params = xlc.CommonParams()
    params.model.path = sys.argv[1]
    params.n_ctx = 512
    params.n_gpu_layers = 0
    params.cpuparams.n_threads = 1
    server = xlc.Server(params)
    print("# qwen2 pre-tokenizer reference: llama.cpp (xllamacpp " + getattr(xlc, "__version__", "?") + ") /tokenize")
    print("# on qwen2.5-coder-0.5b-instruct-q4_k_m.gguf, add_special=false, parse_special=false.")
    print("# Produced by oracle/tools/qwen2_tokens.py; one JSON object {text, ids} per line; the last one, {chat, ids},")
    print("# is the chat template around `chat` (parse_special=true).")

    def tokenize(text, special):
        body = json.dumps({"content": text, "add_special": False, "parse_special": special}).encode()
        req = urllib.request.Request(server.listening_address + "/tokenize", body, {"Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(req))["tokens"]

    for text in TEXTS:
        print(json.dumps({"text": text, "ids": tokenize(text, False)}, ensure_ascii=False))
    print(json.dumps({"chat": CHAT, "ids": tokenize(TEMPLATE.replace("{prompt}", CHAT), True)}, ensure_ascii=False))


if __name__ == "__main__":
    main()

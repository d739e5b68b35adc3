"""The LLM explainer (Delphi's definitions): explain a feature from its top examples through any OpenAI-compatible
chat endpoint, then score that explanation by detection and fuzzing on held-out contexts.

Modules: ``client`` (chat completions over plain HTTP, named errors, retries), ``prompts`` (the messages and their
parsing), ``scoring`` (confusion counts -> balanced accuracy with its interval), ``config`` (the job's typed config
and its cost/time estimate), ``explainer`` (one feature: explain, detect, fuzz). No torch here: the gateway imports
the config and the estimate; the analyser's task gathers the contexts.
"""

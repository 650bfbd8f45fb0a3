"""The LLM boundary: the OpenAI client built from settings (`client`), prompt files (`prompts`) and the brief
writer (`brief_writer`). Nothing outside this package talks to the LLM."""

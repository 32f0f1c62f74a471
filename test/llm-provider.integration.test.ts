import { OllamaProvider } from '../src/llm/ollama-provider.ts';
import { OpenAiProvider } from '../src/llm/openai-provider.ts';
import { defineLlmProviderContract } from './llm-provider-contract.ts';

defineLlmProviderContract('Ollama native API', (url) => new OllamaProvider({ url }));
defineLlmProviderContract(
  'OpenAI-compatible API',
  (url) => new OpenAiProvider({ url: `${url}/v1` }),
);

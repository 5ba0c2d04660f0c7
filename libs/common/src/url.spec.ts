import { isHttpUrl } from './url';

describe('isHttpUrl', () => {
  it('accepts http and https in any case, nothing else', () => {
    expect(['http://a/m.tflite', 'https://a/m.json', 'HTTPS://A/B'].map(isHttpUrl)).toEqual([true, true, true]);
    expect(['file:///m.tflite', 'models/http://x', 'ftp://a/b', 'C:\\m.tflite', 'https:/one-slash'].map(isHttpUrl)).toEqual([false, false, false, false, false]);
  });
});

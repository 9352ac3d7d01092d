
// Docker-style generated names (adjective_surname), as Podman gives them.
const ADJECTIVES = [
  'admiring', 'agitated', 'amazing', 'awesome', 'blissful', 'bold', 'brave', 'charming', 'clever', 'compassionate',
  'competent', 'confident', 'cool', 'dazzling', 'determined', 'eager', 'ecstatic', 'elastic', 'elegant', 'epic',
  'exciting', 'fervent', 'festive', 'focused', 'friendly', 'frosty', 'gallant', 'gifted', 'goofy', 'gracious',
  'happy', 'hopeful', 'hungry', 'inspiring', 'intelligent', 'jolly', 'keen', 'kind', 'laughing', 'loving',
  'lucid', 'magical', 'modest', 'musing', 'nice', 'nifty', 'nostalgic', 'optimistic', 'peaceful', 'pensive',
  'practical', 'priceless', 'quirky', 'quizzical', 'relaxed', 'reverent', 'romantic', 'serene', 'sharp', 'silly',
  'sleepy', 'stoic', 'strange', 'sweet', 'tender', 'thirsty', 'trusting', 'upbeat', 'vibrant', 'vigilant',
  'wizardly', 'wonderful', 'youthful', 'zealous', 'zen',
];
import { randomHex, randomInt } from '../util/random.js';
const SURNAMES = [
  'albattani', 'allen', 'archimedes', 'babbage', 'bardeen', 'bartik', 'bell', 'blackwell', 'bohr', 'booth',
  'borg', 'bose', 'brahmagupta', 'brown', 'carson', 'cerf', 'chandrasekhar', 'curie', 'darwin', 'diffie',
  'dijkstra', 'einstein', 'elion', 'engelbart', 'euclid', 'euler', 'fermat', 'fermi', 'feynman', 'franklin',
  'galileo', 'gauss', 'goldberg', 'goodall', 'hamilton', 'hawking', 'heisenberg', 'hodgkin', 'hopper', 'hypatia',
  'jackson', 'jennings', 'johnson', 'kalam', 'keller', 'kepler', 'knuth', 'kowalevski', 'lamarr', 'lamport',
  'leakey', 'lovelace', 'lumiere', 'mayer', 'mccarthy', 'mcclintock', 'meitner', 'mendel', 'mirzakhani', 'morse',
  'napier', 'newton', 'noether', 'pascal', 'pasteur', 'payne', 'perlman', 'pike', 'poincare', 'ptolemy',
  'raman', 'ritchie', 'rosalind', 'sammet', 'shannon', 'shockley', 'sinoussi', 'stallman', 'swartz', 'tesla',
  'thompson', 'torvalds', 'turing', 'villani', 'wescoff', 'wilson', 'wing', 'wozniak', 'wright', 'yalow',
];

export function generateName(taken: (name: string) => boolean): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const a = ADJECTIVES[randomInt(ADJECTIVES.length)];
    const s = SURNAMES[randomInt(SURNAMES.length)];
    const name = attempt < 10 ? `${a}_${s}` : `${a}_${s}${randomInt(100)}`;
    if (!taken(name)) return name;
  }
  return `tspod_${randomHex(6)}`;
}

export const CONTAINER_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

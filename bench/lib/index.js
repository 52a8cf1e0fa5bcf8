'use strict';
// The benchmark's toolbox, one module per job (lib/*.js), gathered for the sections: \`const lib = require('./lib')\`.
module.exports = {
  ...require('./clock'),
  ...require('./pairs'),
  ...require('./paths'),
  ...require('./spawn'),
  ...require('./procfs'),
  ...require('./cleanup'),
  ...require('./successor'),
  ...require('./machine'),
  ...require('./format'),
};
